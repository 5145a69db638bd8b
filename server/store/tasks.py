"""The background task queue, in the database: recorded with the change that needs the work,
leased by one worker at a time, marked done in the transaction that records the work's result.
A worker that dies lets its lease run out, and the task is done again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Update, func, insert, literal, select, update

from server.core.metrics import Backlog
from server.core.principals import Environment, Principal
from server.store import deferred
from server.store.prepared import insert_into
from server.store.tables import tasks

_ENQUEUE = insert_into(tasks)


@dataclass(frozen=True)
class ClaimedTask:
    seq: int
    kind: str
    principal: Principal
    subject: str
    payload: dict[str, Any]
    attempts: int  # this one included


class TaskQueue:
    """The queue of tasks of every account, in the transaction of the server's work (or, for
    `enqueue`, of a caller's unit of work)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def enqueue(
        self,
        principal: Principal,
        kind: str,
        subject: str,
        payload: dict,
        at: int,
    ) -> None:
        values = {
            "kind": kind,
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "subject": subject,
            "payload": payload,
            "created": at,
            "run_after": at,
            "attempts": 0,
            "done_at": None,
            "last_error": None,
        }
        if not deferred.hold(self.connection, _ENQUEUE, values):
            _ENQUEUE.execute(self.connection, values)

    def any_due(self, at: int, skipping: Collection[str] = ()) -> bool:
        """Whether `claim_due` would find a task: a read, which takes no writers' lock."""
        found = self.connection.execute(_due(select(tasks.c.seq), at, skipping).limit(1))
        return found.first() is not None

    def claim_due(
        self, at: int, lease_seconds: int, skipping: Collection[str] = ()
    ) -> ClaimedTask | None:
        """Lease the oldest due task for `lease_seconds`, counting the attempt, but for the
        accounts `skipping` (those that have their share running). PostgreSQL skips rows
        another worker is claiming; the conditional update makes a second claimant (SQLite, or
        a lock released by a commit) find nothing to claim."""
        due = _due(select(tasks), at, skipping)
        while True:
            row = self.connection.execute(
                due.order_by(tasks.c.seq).limit(1).with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            claimed = self.connection.execute(
                update(tasks)
                .where(
                    tasks.c.seq == row.seq,
                    tasks.c.done_at.is_(None),
                    tasks.c.attempts == row.attempts,
                )
                .values(attempts=row.attempts + 1, run_after=at + lease_seconds)
            )
            if claimed.rowcount == 1:
                return ClaimedTask(
                    seq=row.seq,
                    kind=row.kind,
                    principal=Principal(row.account_id, Environment(row.environment)),
                    subject=row.subject,
                    payload=row.payload,
                    attempts=row.attempts + 1,
                )

    def finish(self, seq: int, at: int, error: str | None = None) -> None:
        """Mark the task done: its work is done, or (with `error`) it was given up."""
        self.connection.execute(
            update(tasks).where(tasks.c.seq == seq).values(done_at=at, last_error=error)
        )

    def postpone(self, seq: int, run_after: int, error: str) -> None:
        """Try the task again at `run_after`, after a failed attempt."""
        self.connection.execute(
            update(tasks)
            .where(tasks.c.seq == seq)
            .values(run_after=run_after, last_error=error[:2000])
        )

    def renew(self, task: ClaimedTask, until: int) -> None:
        """Keep the task's lease until `until`, while its claim is still the latest (attempts
        unchanged) and it is not done."""
        self.connection.execute(_still_claimed(task).values(run_after=until))

    def hand_back(self, task: ClaimedTask, at: int) -> None:
        """Give up a claim unfinished, for the next worker at `at`: a worker that stops does not
        hold its tasks until their leases run out, and the claim does not count as an attempt.
        Nothing changes if the task is done or claimed again meanwhile."""
        self.connection.execute(
            _still_claimed(task).values(run_after=at, attempts=task.attempts - 1)
        )

    def resume(self, seq: int, at: int) -> None:
        """Queue the rest of the task's work behind every task queued so far, due at `at`: a copy
        of it, as new, takes its place (the claim's attempt was a slice of the work, not a try
        that failed)."""
        copied = [tasks.c.kind, tasks.c.account_id, tasks.c.environment, tasks.c.subject]
        copied += [tasks.c.payload, tasks.c.created]
        self.connection.execute(
            insert(tasks).from_select(
                [*(column.name for column in copied), "run_after", "attempts"],
                select(*copied, literal(at), literal(0)).where(tasks.c.seq == seq),
            )
        )
        self.finish(seq, at)

    def backlog(self, at: int) -> list[Backlog]:
        """Each kind's tasks not done: due at `at` and not taken, or held (leased by a worker,
        or waiting for a retry); and how long the oldest due one has waited."""
        due = tasks.c.run_after <= at
        rows = self.connection.execute(
            select(
                tasks.c.kind,
                func.count().filter(due),
                func.count().filter(~due),
                func.min(tasks.c.run_after).filter(due),
            )
            .where(tasks.c.done_at.is_(None))
            .group_by(tasks.c.kind)
        )
        return [
            Backlog(kind, due_count, held, at - oldest if oldest is not None else 0)
            for kind, due_count, held, oldest in rows
        ]

    def pending(self) -> int:
        query = select(func.count()).select_from(tasks).where(tasks.c.done_at.is_(None))
        return self.connection.execute(query).scalar_one()


def _still_claimed(task: ClaimedTask) -> Update:
    """An update of `task` while its claim is the latest (attempts unchanged) and it is not
    done: a worker changes only what it still holds."""
    return update(tasks).where(
        tasks.c.seq == task.seq,
        tasks.c.done_at.is_(None),
        tasks.c.attempts == task.attempts,
    )


def _due(query: Select, at: int, skipping: Collection[str]) -> Select:
    """`query` narrowed to the tasks due at `at`, but for the accounts `skipping`."""
    due = query.where(tasks.c.done_at.is_(None), tasks.c.run_after <= at)
    return due.where(tasks.c.account_id.not_in(list(skipping))) if skipping else due
