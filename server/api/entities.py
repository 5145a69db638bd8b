"""Entity operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import entities
from server.store.unit_of_work import UnitOfWork


def list_entities(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.EntityList:
    return [
        show.entity(r, live=uow.live)
        for r in entities.list_(uow, page("entity", limit, starting_after, ending_before))
    ]


def create_entity(uow: UnitOfWork, body: schemas.EntityCreate) -> schemas.Entity:
    return show.entity(entities.create(uow, body), live=uow.live)


def retrieve_entity(uow: UnitOfWork, entity_id: str) -> schemas.Entity:
    return show.entity(entities.retrieve(uow, entity_id), live=uow.live)


def update_entity(uow: UnitOfWork, entity_id: str, body: schemas.EntityUpdate) -> schemas.Entity:
    return show.entity(entities.update(uow, entity_id, body), live=uow.live)


def delete_entity(uow: UnitOfWork, entity_id: str) -> show.Deleted:
    return show.deletion(entity_id, "entity", entities.delete(uow, entity_id), live=uow.live)
