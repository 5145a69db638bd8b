"""Test clock rows, the time of a sandbox that has one, and what falls due as its time moves."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    Boolean,
    Column,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    union_all,
    update,
)

from server.core.principals import Environment, Principal
from server.core.statuses import PENDING
from server.store.listing import ownership
from server.store.prepared import Prepared
from server.store.records import Records, Repository, owner
from server.store.tables import (
    application_sessions,
    invoices,
    policies,
    test_clocks,
    webhook_deliveries,
)

TEST_CLOCKS = Records(test_clocks, "clock")

_CALLERS_CLOCK = select(test_clocks.c.frozen_time).where(
    test_clocks.c.account_id == bindparam("account_id"),
    test_clocks.c.environment == bindparam("environment"),
)
_FROZEN_TIME = Prepared(_CALLERS_CLOCK, test_clocks.columns)
# The same, as a column of another statement, which binds the owner's `account_id` and
# `environment`: the caller's clock costs that statement's round trip nothing more.
CALLERS_FROZEN_TIME = _CALLERS_CLOCK.scalar_subquery()


def frozen_time(connection: Connection, principal: Principal) -> int | None:
    """The time of the caller's test clock, or None when the caller runs on the wall clock."""
    rows = _FROZEN_TIME.rows(connection, owner(principal))
    return rows[0]["frozen_time"] if rows else None


def time_of(table: Table, wall: int | ColumnElement[int]) -> ColumnElement[int]:
    """The time of the sandbox each row of `table` belongs to: its test clock's, or `wall`."""
    clock = (
        select(test_clocks.c.frozen_time)
        .where(
            test_clocks.c.account_id == table.c.account_id,
            test_clocks.c.environment == table.c.environment,
        )
        .scalar_subquery()
    )
    return func.coalesce(clock, wall)


@dataclass(frozen=True)
class Ending:
    """Something of the objects of one table that comes at a time, as the domain states it:
    the record's field holding the time (`at`, no time: it will not come), the fields that, true
    or set, mean it will not come (`unless`: cancelled, completed, deleted), and the flag the
    store sets once it was announced (`announced`)."""

    kind: str  # what comes: a policy's expiry, a session's expiry, a review's end, ...
    table: str  # policy, application_session, invoice
    at: str
    unless: tuple[str, ...] = ()
    announced: str = "expiry_announced"


_TABLES = {"policy": policies, "application_session": application_sessions, "invoice": invoices}


def _end_of(ending: Ending) -> tuple[Table, Column, tuple[ColumnElement[bool], ...]]:
    """The table of the ending's objects, the column of their end, and which are pending: not
    announced, and none of `unless` true (a flag) or set (a time)."""
    table = _TABLES[ending.table]
    pending = [table.c[ending.announced].is_(False), table.c[ending.at].is_not(None)]
    for name in ending.unless:
        column = table.c[name]
        pending.append(column.is_(False) if isinstance(column.type, Boolean) else column.is_(None))
    return table, table.c[ending.at], tuple(pending)


def _come(ending: Ending, wall: int | BindParameter) -> list[Select]:
    """The pending objects whose end has come in their sandbox's time: on the wall clock, or on
    their test clock (two queries, each able to use an index)."""
    table, end, pending = _end_of(ending)
    columns = (
        literal(ending.kind).label("kind"),
        table.c.account_id,
        table.c.environment,
        table.c.id,
        end.label("due"),
    )
    clock = test_clocks
    of_row = and_(
        clock.c.account_id == table.c.account_id, clock.c.environment == table.c.environment
    )
    on_wall = select(*columns).where(*pending, end <= wall, ~exists().where(of_row))
    on_clock = select(*columns).join(clock, of_row).where(*pending, end <= clock.c.frozen_time)
    return [on_wall, on_clock]


@functools.cache
def _due_expiries(endings: tuple[Ending, ...]) -> CompoundSelect:
    """due_expiries' statement, built once: a worker runs it ten times a second."""
    queries = [query for ending in endings for query in _come(ending, bindparam("wall"))]
    return union_all(*queries).order_by("due", "id")


@dataclass(frozen=True)
class Expiry:
    kind: str  # the Ending's
    principal: Principal
    object_id: str


def due_expiries(connection: Connection, endings: Sequence[Ending], wall: int) -> list[Expiry]:
    """The objects of every account whose end has come in their sandbox's time (or `wall`) and
    is not yet announced, the earliest first."""
    rows = connection.execute(_due_expiries(tuple(endings)), {"wall": wall})
    return [
        Expiry(row.kind, Principal(row.account_id, Environment(row.environment)), row.id)
        for row in rows
    ]


class ClockTaken(Exception):
    """The sandbox's one clock was created by another request between our delete and insert."""


class TestClockRepository(Repository):
    records = TEST_CLOCKS
    conflict = staticmethod(lambda _fields: ClockTaken())

    def remove_all(self) -> None:
        self.connection.execute(delete(test_clocks).where(*ownership(test_clocks, self.principal)))

    def next_moment(self, after: int, until: int, endings: Sequence[Ending]) -> int | None:
        """The first moment in (after, until] at which something of the caller's sandbox falls
        due: an object of `endings` ends (a policy expires, a session lapses), a webhook
        delivery is to be attempted."""
        deliveries = webhook_deliveries
        moments = []
        for ending in endings:
            table, end, pending = _end_of(ending)
            moments.append(
                select(func.min(end)).where(
                    *ownership(table, self.principal), *pending, end > after
                )
            )
        moments.append(
            select(func.min(deliveries.c.next_attempt_at)).where(
                *ownership(deliveries, self.principal),
                deliveries.c.status == PENDING,
                deliveries.c.next_attempt_at > after,
            )
        )
        found = [self.connection.execute(moment).scalar() for moment in moments]
        due = [moment for moment in found if moment is not None and moment <= until]
        return min(due, default=None)

    def set_time(self, clock_id: str, frozen: int) -> None:
        self.connection.execute(
            update(test_clocks).where(test_clocks.c.id == clock_id).values(frozen_time=frozen)
        )
