"""Contracting entities: their coverage rules, and what deleting one does to policies."""

from __future__ import annotations

from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, NotFound
from server.core.pagination import PageRequest
from server.domain import addresses, policies, required
from server.store.unit_of_work import UnitOfWork


def check_coverage_limit(limit: schemas.CoverageLimit | None) -> None:
    if limit and limit["occurrence_limit"] > limit["aggregate_limit"]:
        raise InvalidRequest(
            f"coverage_limit.occurrence_limit ({limit['occurrence_limit']}) may not exceed "
            f"coverage_limit.aggregate_limit ({limit['aggregate_limit']}).",
            code="coverage_limit_invalid",
            param="coverage_limit.occurrence_limit",
        )


def create(uow: UnitOfWork, fields: schemas.EntityCreate) -> dict[str, Any]:
    check_coverage_limit(fields.get("coverage_limit"))
    return uow.entities.add({"required_coverage": [], **addresses.stored(fields)}, uow.now)


def retrieve(uow: UnitOfWork, entity_id: str) -> dict[str, Any]:
    return required(uow.entities.get(entity_id), "entity", entity_id, param="entity_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.entities.page(page)


def update(uow: UnitOfWork, entity_id: str, changes: schemas.EntityUpdate) -> dict[str, Any]:
    check_coverage_limit(changes.get("coverage_limit"))
    updated = uow.entities.update(entity_id, addresses.stored(changes))
    return required(updated, "entity", entity_id, param="entity_id")


def delete(uow: UnitOfWork, entity_id: str) -> int:
    """Delete an entity and cancel the policies in force for its jobs; returns when."""
    if not uow.entities.remove(entity_id):
        raise NotFound("entity", entity_id, param="entity_id")
    policies.cancel_entity_policies(uow, entity_id)
    return uow.now
