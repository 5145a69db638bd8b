"""The parties a quote or an assignment is rated on, in one statement: its contractor, its job
and the job's entity (three lookups were three round trips to PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, select

from server.core.principals import Principal
from server.store.contractors import CONTRACTORS
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.listing import owns
from server.store.prepared import Prepared
from server.store.tables import contractors, entities, jobs

_PARTS: tuple[tuple[str, Table], ...] = (
    ("contractor", contractors),
    ("job", jobs),
    ("entity", entities),
)
_LABELLED = [column.label(f"{part}__{column.name}") for part, table in _PARTS for column in table.c]
# Each part's columns, as (label, name): a row is split into its parts by these.
_COLUMNS_OF = {
    part: [(f"{part}__{column.name}", column.name) for column in table.c] for part, table in _PARTS
}
_OF = Prepared(
    select(*_LABELLED)
    .select_from(
        jobs.join(contractors, contractors.c.id == bindparam("contractor")).outerjoin(
            entities, entities.c.id == jobs.c.entity
        )
    )
    .where(jobs.c.id == bindparam("job")),
    _LABELLED,
)


class Parties:
    def __init__(self, connection: Connection, principal: Principal):
        self.connection = connection
        self.principal = principal

    def of(self, contractor_id: str, job_id: str) -> tuple[dict, dict, dict | None] | None:
        """The caller's contractor and job and the job's entity (None once deleted); None when
        the contractor or the job is not there (or not the caller's)."""
        rows = _OF.rows(self.connection, {"contractor": contractor_id, "job": job_id})
        if not rows:
            return None
        row = rows[0]
        found = {
            part: {name: row[label] for label, name in columns}
            for part, columns in _COLUMNS_OF.items()
        }
        contractor, job, entity = found["contractor"], found["job"], found["entity"]
        if not (owns(self.principal, contractor) and owns(self.principal, job)):
            return None
        present = entity["id"] is not None and owns(self.principal, entity)
        return (
            CONTRACTORS.record(contractor),
            JOBS.record(job),
            ENTITIES.record(entity) if present else None,
        )
