"""Contracting entities: their coverage rules, and what deleting one does to policies."""

from __future__ import annotations

from typing import Any

from server.domain import policies
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.store.db import Database
from server.store.entities import ENTITIES


def check_coverage_limit(limit: dict[str, int] | None) -> None:
    if limit and limit["occurrence_limit"] > limit["aggregate_limit"]:
        raise InvalidRequest(
            f"coverage_limit.occurrence_limit ({limit['occurrence_limit']}) may not exceed "
            f"coverage_limit.aggregate_limit ({limit['aggregate_limit']}).",
            code="coverage_limit_invalid",
            param="coverage_limit.occurrence_limit",
        )


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    fields = {"required_coverage": [], **fields}
    check_coverage_limit(fields.get("coverage_limit"))
    with db.transaction() as session:
        return ENTITIES.create(session, principal, fields)


def retrieve(db: Database, principal: Principal, entity_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return ENTITIES.get(session, principal, entity_id)


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return ENTITIES.list_(session, principal, page)


def update(
    db: Database, principal: Principal, entity_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    check_coverage_limit(changes.get("coverage_limit"))
    with db.transaction() as session:
        return ENTITIES.save(session, principal, entity_id, changes)


def delete(db: Database, principal: Principal, entity_id: str) -> int:
    """Delete an entity and cancel the policies in force for its jobs; returns when."""
    at = now()
    with db.transaction() as session:
        ENTITIES.remove(session, principal, entity_id)
        policies.cancel_entity_policies(session, principal, entity_id, at)
    return at
