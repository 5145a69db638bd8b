"""Assignment operations."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import assignments
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict, base_url: str) -> dict:
    return views.assignment(record, base_url)


def list_assignments(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = assignments.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r, base_url) for r in found]


def create_assignment(database: Database, principal: Principal, body: dict, base_url: str):
    return _public(assignments.create(database, principal, body), base_url), 201


def retrieve_assignment(
    database: Database, principal: Principal, assignment_id: str, base_url: str
):
    return _public(assignments.retrieve(database, principal, assignment_id), base_url)


def update_assignment(
    database: Database, principal: Principal, assignment_id: str, body: dict, base_url: str
):
    return _public(assignments.update(database, principal, assignment_id, body), base_url)


def delete_assignment(database: Database, principal: Principal, assignment_id: str):
    return deleted(
        assignment_id, "assignment", assignments.delete(database, principal, assignment_id)
    )


def extend_assignment(database: Database, principal: Principal, body: dict, base_url: str):
    extended = assignments.extend(
        database,
        principal,
        body["job_id"],
        body["end_date"],
        send_email=body.get("send_email", True),
    )
    return _public(extended, base_url)
