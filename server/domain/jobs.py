"""Jobs: the entity and category they need, and when one may be deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.store import job_categories
from server.store.assignments import live_for_job
from server.store.db import Database
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.policies import job_has_policy


def check_references(session: Session, principal: Principal, fields: dict[str, Any]) -> None:
    """The entity must be the caller's, the category must exist and be approved."""
    if "entity" in fields:
        ENTITIES.row(session, principal, fields["entity"], param="entity", code="invalid_entity_id")
    if "category_code" in fields:
        code = fields["category_code"]
        category = job_categories.get(
            session, code, param="category_code", code="invalid_job_category_code"
        )
        if not category["approved"]:
            raise InvalidRequest(
                f"The job category {code} ({category['name']}) is not approved.",
                code="invalid_job_category_code",
                param="category_code",
            )


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as session:
        check_references(session, principal, fields)
        return JOBS.create(session, principal, fields)


def retrieve(db: Database, principal: Principal, job_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return JOBS.get(session, principal, job_id)


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return JOBS.list_(session, principal, page)


def update(
    db: Database, principal: Principal, job_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    with db.transaction() as session:
        JOBS.row(session, principal, job_id)
        check_references(session, principal, changes)
        return JOBS.save(session, principal, job_id, changes)


def delete(db: Database, principal: Principal, job_id: str) -> int:
    """Delete a job that no policy covers, through a quote or a bound assignment; returns
    when."""
    with db.transaction() as session:
        live = live_for_job(session, principal, job_id)
        if job_has_policy(session, principal, job_id) or (live is not None and live["bind"]):
            raise InvalidRequest(
                f"The job {job_id} has insurance policies and cannot be deleted.",
                code="job_is_used",
            )
        JOBS.remove(session, principal, job_id)
    return now()
