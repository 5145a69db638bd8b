"""Job operations."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import jobs
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict) -> dict:
    return views.job(record)


def list_jobs(
    database: Database,
    principal: Principal,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = jobs.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r) for r in found]


def create_job(database: Database, principal: Principal, body: dict):
    return _public(jobs.create(database, principal, body)), 201


def retrieve_job(database: Database, principal: Principal, job_id: str):
    return _public(jobs.retrieve(database, principal, job_id))


def update_job(database: Database, principal: Principal, job_id: str, body: dict):
    return _public(jobs.update(database, principal, job_id, body))


def delete_job(database: Database, principal: Principal, job_id: str):
    return deleted(job_id, "job", jobs.delete(database, principal, job_id))
