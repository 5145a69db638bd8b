"""Entity operations."""

from __future__ import annotations

from server import models
from server.api import database, deleted, page, parse, principal
from server.domain import entities
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return models.Entity.model_validate(record).model_dump(mode="json")


def list_entities(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = entities.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_entity(body: dict, token_info: dict):
    fields = parse(models.EntityCreate, body)
    return _public(entities.create(database(), principal(token_info), fields)), 201


def retrieve_entity(entity_id: str, token_info: dict):
    return _public(entities.retrieve(database(), principal(token_info), entity_id))


def update_entity(entity_id: str, body: dict, token_info: dict):
    changes = parse(models.EntityUpdate, body)
    return _public(entities.update(database(), principal(token_info), entity_id, changes))


def delete_entity(entity_id: str, token_info: dict):
    deleted_at = entities.delete(database(), principal(token_info), entity_id)
    return deleted(models.DeletedEntity, entity_id, "entity", deleted_at)
