"""Quote operations."""

from __future__ import annotations

from server import models, views
from server.api import database, page, parse, principal, public_base
from server.domain import quotes
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return views.quote(record, public_base())


def list_quotes(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = quotes.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_quote(body: dict, token_info: dict):
    fields = parse(models.QuoteCreate, body)
    return _public(quotes.create(database(), principal(token_info), fields)), 201


def retrieve_quote(quote_id: str, token_info: dict):
    return _public(quotes.retrieve(database(), principal(token_info), quote_id))


def update_quote(quote_id: str, body: dict, token_info: dict):
    changes = parse(models.QuoteUpdate, body)
    return _public(quotes.update(database(), principal(token_info), quote_id, changes))
