"""Entity operations."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import entities
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict) -> dict:
    return views.entity(record)


def list_entities(
    database: Database,
    principal: Principal,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = entities.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r) for r in found]


def create_entity(database: Database, principal: Principal, body: dict):
    return _public(entities.create(database, principal, body)), 201


def retrieve_entity(database: Database, principal: Principal, entity_id: str):
    return _public(entities.retrieve(database, principal, entity_id))


def update_entity(database: Database, principal: Principal, entity_id: str, body: dict):
    return _public(entities.update(database, principal, entity_id, body))


def delete_entity(database: Database, principal: Principal, entity_id: str):
    return deleted(entity_id, "entity", entities.delete(database, principal, entity_id))
