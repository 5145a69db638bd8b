"""Jobs: the entity and category they need, and when one may be deleted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, NotFound
from server.core.pagination import PageRequest
from server.domain import addresses, required
from server.store.unit_of_work import UnitOfWork


def check_references(uow: UnitOfWork, fields: Mapping[str, Any]) -> None:
    """The entity must be the caller's, the category must exist and be approved."""
    if "entity" in fields:
        entity_id = fields["entity"]
        found = uow.entities.get(entity_id)
        required(found, "entity", entity_id, param="entity", code="invalid_entity_id")
    if "category_code" in fields:
        code = fields["category_code"]
        category = required(
            uow.job_categories.get(code),
            "job category",
            code,
            param="category_code",
            code="invalid_job_category_code",
        )
        if not category["approved"]:
            raise InvalidRequest(
                f"The job category {code} ({category['name']}) is not approved.",
                code="job_category_not_approved",
                param="category_code",
            )


def create(uow: UnitOfWork, fields: schemas.JobCreate) -> dict[str, Any]:
    check_references(uow, fields)
    return uow.jobs.add(addresses.stored(fields), uow.now)


def retrieve(uow: UnitOfWork, job_id: str) -> dict[str, Any]:
    return required(uow.jobs.get(job_id), "job", job_id, param="job_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.jobs.page(page)


def update(uow: UnitOfWork, job_id: str, changes: schemas.JobUpdate) -> dict[str, Any]:
    retrieve(uow, job_id)
    check_references(uow, changes)
    return uow.jobs.update(job_id, addresses.stored(changes))


def delete(uow: UnitOfWork, job_id: str) -> int:
    """Delete a job that no policy covers, through a quote or a bound assignment; returns
    when."""
    live = uow.assignments.live_for_job(job_id)
    if uow.policies.job_has_policy(job_id) or (live is not None and live["bind"]):
        raise InvalidRequest(
            f"The job {job_id} has insurance policies and cannot be deleted.",
            code="job_is_used",
        )
    if not uow.jobs.remove(job_id):
        raise NotFound("job", job_id, param="job_id")
    return uow.now
