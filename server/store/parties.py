"""The parties a quote is rated on, in one statement: its contractor, its job and the job's
entity (three lookups were three round trips to PostgreSQL), the caller's test clock, which the
unit of work would otherwise read by itself, and whether the contractor has a policy on file."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import Connection, Table, bindparam, exists, select

from server.core.principals import Principal
from server.store.clocks import CALLERS_FROZEN_TIME
from server.store.contractors import CONTRACTORS
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.listing import owns
from server.store.prepared import Prepared
from server.store.records import owner
from server.store.tables import contractors, entities, jobs, policies, quotes

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
_FROZEN_TIME = CALLERS_FROZEN_TIME.label("frozen_time")
# Whether the contractor has a policy not cancelled: only then is a new quote looked at for
# cover on file (store/policies.py), a statement more.
_POLICY_ON_FILE = (
    exists()
    .where(
        # The caller's policies first (an index), few beside a contractor's quotes.
        policies.c.account_id == bindparam("account_id"),
        policies.c.environment == bindparam("environment"),
        policies.c.cancelled.is_(False),
        policies.c.quote == quotes.c.id,
        quotes.c.contractor == bindparam("contractor"),
    )
    .label("policy_on_file")
)
_OF = Prepared(
    select(*_LABELLED, _FROZEN_TIME, _POLICY_ON_FILE)
    .select_from(
        jobs.join(contractors, contractors.c.id == bindparam("contractor")).outerjoin(
            entities, entities.c.id == jobs.c.entity
        )
    )
    .where(jobs.c.id == bindparam("job")),
    [*_LABELLED, _FROZEN_TIME, _POLICY_ON_FILE],
)


class Found(NamedTuple):
    """The parties of a quote: its contractor, its job, the job's entity (None once deleted),
    and whether the contractor has a policy not cancelled."""

    contractor: dict
    job: dict
    entity: dict | None
    policy_on_file: bool


class Parties:
    def __init__(
        self,
        connection: Connection,
        principal: Principal,
        clock_read: Callable[[int | None], None],
    ):
        """`clock_read`: given the caller's test clock's time (None: no clock), read on the way."""
        self.connection = connection
        self.principal = principal
        self._clock_read = clock_read

    def of(self, contractor_id: str, job_id: str) -> Found | None:
        """The caller's contractor and job and the job's entity; None when the contractor or
        the job is not there (or not the caller's)."""
        values = {"contractor": contractor_id, "job": job_id, **owner(self.principal)}
        rows = _OF.rows(self.connection, values)
        if not rows:
            return None
        row = rows[0]
        self._clock_read(row["frozen_time"])
        found = {
            part: {name: row[label] for label, name in columns}
            for part, columns in _COLUMNS_OF.items()
        }
        contractor, job, entity = found["contractor"], found["job"], found["entity"]
        if not (owns(self.principal, contractor) and owns(self.principal, job)):
            return None
        present = entity["id"] is not None and owns(self.principal, entity)
        return Found(
            CONTRACTORS.record(contractor),
            JOBS.record(job),
            ENTITIES.record(entity) if present else None,
            bool(row["policy_on_file"]),
        )
