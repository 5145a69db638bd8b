"""The background task queue, in the database: recorded with the change that needs the work,
claimed under a row lock, marked done in the transaction that did the work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from server.domain.accounts import Environment, Principal
from server.store.tables import tasks


@dataclass(frozen=True)
class Task:
    seq: int
    kind: str
    principal: Principal
    subject: str
    payload: dict[str, Any]
    attempts: int  # before this one


def enqueue(
    session: Session, principal: Principal, kind: str, subject: str, payload: dict, at: int
) -> None:
    session.execute(
        insert(tasks).values(
            kind=kind,
            account_id=principal.account_id,
            environment=principal.environment.value,
            subject=subject,
            payload=payload,
            created=at,
            run_after=at,
            attempts=0,
        )
    )


def claim_due(session: Session, at: int) -> Task | None:
    """The oldest due task, locked for this transaction: PostgreSQL skips rows another worker
    holds; the conditional update makes a second claimant (SQLite, or a lock released by a
    commit) find nothing to claim."""
    while True:
        row = session.execute(
            select(tasks)
            .where(tasks.c.done_at.is_(None), tasks.c.run_after <= at)
            .order_by(tasks.c.seq)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        claimed = session.execute(
            update(tasks)
            .where(
                tasks.c.seq == row.seq,
                tasks.c.done_at.is_(None),
                tasks.c.attempts == row.attempts,
            )
            .values(attempts=row.attempts + 1)
        )
        if claimed.rowcount == 1:
            return Task(
                seq=row.seq,
                kind=row.kind,
                principal=Principal(row.account_id, Environment(row.environment)),
                subject=row.subject,
                payload=row.payload,
                attempts=row.attempts,
            )


def finish(session: Session, seq: int, at: int, error: str | None = None) -> None:
    """Mark the task done: its work is done, or (with `error`) it was given up."""
    session.execute(update(tasks).where(tasks.c.seq == seq).values(done_at=at, last_error=error))


def postpone(session: Session, seq: int, run_after: int, error: str) -> None:
    """Count the failed attempt and try again at `run_after`."""
    session.execute(
        update(tasks)
        .where(tasks.c.seq == seq)
        .values(attempts=tasks.c.attempts + 1, run_after=run_after, last_error=error[:2000])
    )


def pending(session: Session) -> int:
    query = select(func.count()).select_from(tasks).where(tasks.c.done_at.is_(None))
    return session.execute(query).scalar_one()
