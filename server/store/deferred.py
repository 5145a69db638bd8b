"""A request's writes at the fewest round trips, and outside any lock until they are made.

A request's unit of work reads outside a transaction (at READ COMMITTED each statement sees
what was committed before it, in a transaction or not) and holds its inserts (a new object, its
events) back until it ends. Any other statement (an update, a delete, a locking read), or a read
after an insert held back, begins the transaction first and writes what was held back in it:
from there on the unit of work is an ordinary transaction.

On PostgreSQL what was held back is written at the end as one statement, which is atomic by
itself: a request that reads and then inserts needs neither BEGIN nor COMMIT (`POST /contractors`:
two round trips, not five). On SQLite a request's inserts alone are handed over at the end, to be
committed with those of the other requests that end in the same turn of the event loop
(store/group_commit.py), taking the writers' lock only then: other processes' writes do not wait
for the request's reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, literal, select
from sqlalchemy.sql import ClauseElement

from server.store import statements
from server.store.prepared import DEFERRED_WRITES, Prepared, plain_read
from server.store.tables import events, events_to_route

# One statement per shape of what was held back: the tables inserted into, in order, and
# which are events (each with its row to route).
_Shape = tuple[tuple[Table, bool], ...]
_COMBINED: dict[_Shape, Prepared] = {}
# SQLite: an event's row to route, after the event (no insert there returns into another).
_TO_ROUTE = Prepared(
    insert(events_to_route).from_select(
        ["event_seq"], select(events.c.seq).where(events.c.id == bindparam("id"))
    ),
    (),
)


class _Writes:
    """The writes one unit of work holds back, on its connection; `begin` begins its
    transaction (the next statement runs in it)."""

    def __init__(
        self,
        connection: Connection,
        begin: Callable[[], None],
        hand_over: Callable[[list[Row]], bool] | None,
    ):
        self._connection = connection
        self._begin = begin
        self._hand_over = hand_over
        # PostgreSQL writes what was held back in one statement, atomic without a transaction.
        self._one_statement = connection.dialect.name == "postgresql"
        self._held: list[Row] = []
        self._began = False
        connection.info[DEFERRED_WRITES] = self

    def hold(self, insert: Prepared, values: dict[str, Any], *, routed: bool) -> None:
        # Converted now, as the driver takes them: a record changed later changes nothing.
        self._held.append(_row(self._connection, insert, values, routed))

    def before(self, *, reads: bool) -> None:
        """Before a statement runs: a write, or a read after held inserts, runs in the
        transaction, with what was held back written first."""
        if self._began or (reads and not self._held):
            return
        self._start()
        self.write_held()

    def end(self) -> None:
        """At the end of the unit of work: what was held back, written (or handed over, if
        nothing else was written: store/group_commit.py)."""
        if self._held and not self._began and self._hand_over and self._hand_over(self._held):
            self._held = []
            return
        if self._held and not (self._began or self._one_statement):
            self._start()
        self.write_held()

    def _start(self) -> None:
        self._began = True
        statements.transaction()
        self._begin()

    def write_held(self) -> None:
        if self._held:
            held, self._held = self._held, []
            write_rows(self._connection, held)

    def close(self) -> None:
        del self._connection.info[DEFERRED_WRITES]


@contextmanager
def held_back(
    connection: Connection,
    begin: Callable[[], None],
    hand_over: Callable[[list[Row]], bool] | None = None,
) -> Iterator[None]:
    """Hold the block's inserts back, and write them at its end (the block's transaction,
    if it began one, then commits); or, if the block wrote nothing else, hand them over to
    `hand_over`, which returns whether it took them."""
    writes = _Writes(connection, begin, hand_over)
    try:
        yield
        writes.end()
    finally:
        writes.close()


def hold(connection: Connection, insert: Prepared, values: dict[str, Any], *, routed=False) -> bool:
    """Hold the insert back if the connection's unit of work does (`routed`: an event, given
    its row to route); False if it does not (run it now)."""
    writes = connection.info.get(DEFERRED_WRITES)
    if writes is None:
        return False
    writes.hold(insert, values, routed=routed)
    return True


def insert_now(
    connection: Connection, insert: Prepared, values: dict[str, Any], *, routed=False
) -> None:
    """The insert at once, as a held one is written (`routed`: an event, with its row to
    route; on PostgreSQL in one statement)."""
    write_rows(connection, [_row(connection, insert, values, routed)])


def before_execute(connection: Connection, statement: ClauseElement, *_args: Any) -> None:
    """SQLAlchemy's executions on a request's connection (store/prepared.py's say so itself)."""
    writes = connection.info.get(DEFERRED_WRITES)
    if writes is not None:
        writes.before(reads=plain_read(statement))


Row = tuple[Prepared, bool, dict[str, Any]]  # its insert, whether an event, its values bound


def _row(connection: Connection, insert: Prepared, values: dict[str, Any], routed: bool) -> Row:
    return insert, routed, insert.bound(connection.dialect, values)


def write_rows(connection: Connection, rows: list[Row]) -> None:
    """Held rows, written on `connection` (in its transaction, if it is in one)."""
    if connection.dialect.name != "postgresql":
        for insert, routed, bound in rows:
            insert.execute_bound(connection, bound)
            if routed:
                _TO_ROUTE.execute(connection, {"id": bound["id"]})
        return
    shape = tuple((insert.statement.table, routed) for insert, routed, _bound in rows)  # type: ignore[attr-defined]
    values = {
        f"i{index}_{name}": value
        for index, (_insert, _routed, bound) in enumerate(rows)
        for name, value in bound.items()
    }
    _combined(shape).execute(connection, values)


def _combined(shape: _Shape) -> Prepared:
    """The inserts of `shape` as one statement: each a CTE, its values bound as `i<n>_<column>`,
    already converted."""
    found = _COMBINED.get(shape)
    if found is None:
        parts = []
        for index, (table, routed) in enumerate(shape):
            columns = [column for column in table.columns if column.name != "seq"]
            values = {c.name: bindparam(f"i{index}_{c.name}", type_=c.type) for c in columns}
            row = insert(table).values(values)
            if routed:
                event = row.returning(table.c.seq).cte(f"i{index}")
                to_route = insert(events_to_route).from_select(["event_seq"], select(event.c.seq))
                parts += [event, to_route.cte(f"r{index}")]
            else:
                parts.append(row.cte(f"i{index}"))
        found = _COMBINED[shape] = Prepared(select(literal(1)).add_cte(*parts), ())
    return found
