"""Job operations."""

from __future__ import annotations

from server import models
from server.api import database, deleted, page, parse, principal
from server.domain import jobs
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    # exclude_unset: a job address has only the parts given (line1 may be absent, not null).
    return models.Job.model_validate(record).model_dump(mode="json", exclude_unset=True)


def list_jobs(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = jobs.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_job(body: dict, token_info: dict):
    fields = parse(models.JobCreate, body)
    return _public(jobs.create(database(), principal(token_info), fields)), 201


def retrieve_job(job_id: str, token_info: dict):
    return _public(jobs.retrieve(database(), principal(token_info), job_id))


def update_job(job_id: str, body: dict, token_info: dict):
    changes = parse(models.JobUpdate, body)
    return _public(jobs.update(database(), principal(token_info), job_id, changes))


def delete_job(job_id: str, token_info: dict):
    deleted_at = jobs.delete(database(), principal(token_info), job_id)
    return deleted(models.DeletedJob, job_id, "job", deleted_at)
