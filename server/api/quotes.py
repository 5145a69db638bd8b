"""Quote operations."""

from __future__ import annotations

from server import views
from server.api import page
from server.domain import quotes
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict, base_url: str) -> dict:
    return views.quote(record, base_url)


def list_quotes(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = quotes.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r, base_url) for r in found]


def create_quote(database: Database, principal: Principal, body: dict, base_url: str):
    return _public(quotes.create(database, principal, body), base_url), 201


def retrieve_quote(database: Database, principal: Principal, quote_id: str, base_url: str):
    return _public(quotes.retrieve(database, principal, quote_id), base_url)


def update_quote(
    database: Database, principal: Principal, quote_id: str, body: dict, base_url: str
):
    return _public(quotes.update(database, principal, quote_id, body), base_url)
