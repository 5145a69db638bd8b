"""Assignment operations."""

from __future__ import annotations

from server import models, views
from server.api import database, deleted, page, parse, principal, public_base
from server.domain import assignments
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return views.assignment(record, public_base())


def list_assignments(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = assignments.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_assignment(body: dict, token_info: dict):
    fields = parse(models.AssignmentCreate, body)
    return _public(assignments.create(database(), principal(token_info), fields)), 201


def retrieve_assignment(assignment_id: str, token_info: dict):
    return _public(assignments.retrieve(database(), principal(token_info), assignment_id))


def update_assignment(assignment_id: str, body: dict, token_info: dict):
    changes = parse(models.AssignmentUpdate, body)
    return _public(assignments.update(database(), principal(token_info), assignment_id, changes))


def delete_assignment(assignment_id: str, token_info: dict):
    deleted_at = assignments.delete(database(), principal(token_info), assignment_id)
    return deleted(models.DeletedAssignment, assignment_id, "assignment", deleted_at)


def extend_assignment(body: dict, token_info: dict):
    fields = parse(models.AssignmentExtend, body)
    extended = assignments.extend(
        database(),
        principal(token_info),
        fields["job_id"],
        fields["end_date"],
        send_email=fields.get("send_email", True),
    )
    return _public(extended)
