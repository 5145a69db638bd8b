"""Assignment operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import assignments
from server.store.unit_of_work import UnitOfWork


def list_assignments(
    uow: UnitOfWork, base_url: str, limit: int, starting_after=None, ending_before=None
) -> schemas.AssignmentList:
    found = assignments.list_(uow, page("assignment", limit, starting_after, ending_before))
    return [show.assignment(r, base_url, live=uow.live) for r in found]


def create_assignment(
    uow: UnitOfWork, body: schemas.AssignmentCreate, base_url: str
) -> schemas.Assignment:
    return show.assignment(assignments.create(uow, body), base_url, live=uow.live)


def retrieve_assignment(uow: UnitOfWork, assignment_id: str, base_url: str) -> schemas.Assignment:
    return show.assignment(assignments.retrieve(uow, assignment_id), base_url, live=uow.live)


def update_assignment(
    uow: UnitOfWork, assignment_id: str, body: schemas.AssignmentUpdate, base_url: str
) -> schemas.Assignment:
    return show.assignment(assignments.update(uow, assignment_id, body), base_url, live=uow.live)


def delete_assignment(uow: UnitOfWork, assignment_id: str) -> show.Deleted:
    return show.deletion(
        assignment_id, "assignment", assignments.delete(uow, assignment_id), live=uow.live
    )


def extend_assignment(
    uow: UnitOfWork, body: schemas.AssignmentExtend, base_url: str
) -> schemas.Assignment:
    send_email = body.get("send_email", True)
    extended = assignments.extend(uow, body["job_id"], body["end_date"], send_email=send_email)
    return show.assignment(extended, base_url, live=uow.live)


def cancel_assignment(
    uow: UnitOfWork, body: schemas.AssignmentCancel, base_url: str
) -> schemas.Assignment:
    cancelled = assignments.cancel(uow, body["job_id"], body.get("reason"))
    return show.assignment(cancelled, base_url, live=uow.live)
