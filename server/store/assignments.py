"""Assignment rows. A deleted (voided) assignment keeps its row, with `deleted_at` set, so that
extending its job can tell a voided record from a missing one; plain reads hide it."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from server.store.listing import owned
from server.store.prepared import Prepared
from server.store.records import Records, Repository
from server.store.tables import assignments

ASSIGNMENTS = Records(assignments, "an")

# Statements every extension runs, built once. Voided assignments included. By the job's or
# the assignment's id alone, the owner compared on the row (see listing.owns).
_LATEST = (
    select(assignments)
    .where(assignments.c.job == bindparam("job"))
    .order_by(assignments.c.seq.desc())
)
_LATEST_FOR_JOB = Prepared(_LATEST.limit(1), assignments.columns)
_LATEST_FOR_JOB_LOCKED = Prepared(_LATEST.limit(1).with_for_update(), assignments.columns)
_BY_ID_INCLUDING_VOIDED = Prepared(
    select(assignments).where(assignments.c.id == bindparam("id")), assignments.columns
)


class JobHasAssignment(Exception):
    """The live-assignment index refused a second assignment of the job."""


class AssignmentRepository(Repository):
    conflict = staticmethod(lambda fields: JobHasAssignment(fields["job"]))

    records = ASSIGNMENTS

    def _first(self, query) -> dict | None:
        row = self.connection.execute(query).first()
        return None if row is None else ASSIGNMENTS.record(row)

    def live_for_job(self, job_id: str) -> dict | None:
        return self._first(owned(assignments, self.principal).where(assignments.c.job == job_id))

    def latest_for_job(self, job_id: str, *, for_update: bool = False) -> dict | None:
        """The job's most recently created assignment, a voided one included; its row locked
        until the transaction ends `for_update` (PostgreSQL; SQLite's writes are serialised)."""
        statement = _LATEST_FOR_JOB_LOCKED if for_update else _LATEST_FOR_JOB
        return self._one(statement, job=job_id)

    def get_including_voided(self, assignment_id: str) -> dict | None:
        return self._one(_BY_ID_INCLUDING_VOIDED, id=assignment_id)

    def _one(self, statement: Prepared, **values) -> dict | None:
        row = self._owned_row(statement, values)
        return None if row is None else ASSIGNMENTS.record(row)

    def live_for_policy(self, policy_id: str) -> list[dict]:
        """The assignments bound to the policy, voided ones left out."""
        query = owned(assignments, self.principal).where(assignments.c.policy == policy_id)
        rows = self.connection.execute(query.order_by(assignments.c.seq))
        return [ASSIGNMENTS.record(row) for row in rows]

    def set(self, assignment_id: str, fields: dict) -> None:
        """Write fields of an assignment, voided or not."""
        self.connection.execute(ASSIGNMENTS.update, {"object_id": assignment_id, **fields})
