"""Assignment rows. A deleted (voided) assignment keeps its row, with `deleted_at` set, so that
extending its job can tell a voided record from a missing one; Records hides it otherwise."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.store.listing import owned
from server.store.records import Records
from server.store.tables import assignments

ASSIGNMENTS = Records(assignments, "assignment", "an", "assignment_id")


class JobHasAssignment(Exception):
    """The live-assignment index refused a second assignment of the job."""


def insert(session: Session, principal: Principal, fields: dict) -> dict:
    try:
        return ASSIGNMENTS.create(session, principal, fields)
    except IntegrityError as error:
        raise JobHasAssignment(fields["job"]) from error


def live_for_job(session: Session, principal: Principal, job_id: str) -> dict | None:
    row = session.execute(owned(assignments, principal).where(assignments.c.job == job_id)).first()
    return None if row is None else ASSIGNMENTS.as_dict(row)


def latest_for_job(session: Session, principal: Principal, job_id: str) -> dict | None:
    """The job's most recently created assignment, a voided one included."""
    query = (
        owned(assignments, principal, including_deleted=True)
        .where(assignments.c.job == job_id)
        .order_by(assignments.c.seq.desc())
    )
    row = session.execute(query).first()
    return None if row is None else ASSIGNMENTS.as_dict(row)


def find_any(session: Session, assignment_id: str) -> dict | None:
    """The assignment, voided or not, whoever owns it: for background work, which has no
    caller."""
    row = session.execute(select(assignments).where(assignments.c.id == assignment_id)).first()
    return None if row is None else ASSIGNMENTS.as_dict(row)


def save_any(session: Session, assignment_id: str, fields: dict) -> None:
    session.execute(update(assignments).where(assignments.c.id == assignment_id).values(**fields))


def mark_deleted(session: Session, assignment_id: str, at: int) -> None:
    save_any(
        session,
        assignment_id,
        {"deleted_at": at, "certificates": None, "certificate_refresh_pending": False},
    )


def live_for_policy(session: Session, principal: Principal, policy_id: str) -> list[dict]:
    """The assignments bound to the policy, voided ones left out."""
    query = owned(assignments, principal).where(assignments.c.policy == policy_id)
    return [ASSIGNMENTS.as_dict(row) for row in session.execute(query.order_by(assignments.c.seq))]
