"""Contractor operations."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import contractors
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict, base_url: str) -> dict:
    return views.contractor(record, base_url)


def list_contractors(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = contractors.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r, base_url) for r in found]


def create_contractor(database: Database, principal: Principal, body: dict, base_url: str):
    return _public(contractors.create(database, principal, body), base_url), 201


def retrieve_contractor(
    database: Database, principal: Principal, contractor_id: str, base_url: str
):
    return _public(contractors.retrieve(database, principal, contractor_id), base_url)


def update_contractor(
    database: Database, principal: Principal, contractor_id: str, body: dict, base_url: str
):
    return _public(contractors.update(database, principal, contractor_id, body), base_url)


def delete_contractor(database: Database, principal: Principal, contractor_id: str):
    return deleted(
        contractor_id, "contractor", contractors.delete(database, principal, contractor_id)
    )
