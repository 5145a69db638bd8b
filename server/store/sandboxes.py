"""A whole sandbox at once: its rows captured (a snapshot), put back (a restore) or deleted (a
reset, and `ten99-server examples --reset`).

A sandbox is every row of its account and environment (objects, events, deliveries, documents,
emails, queued tasks, the test clock) and the events of it yet to be routed. Its API keys,
idempotency records, snapshots and request log are not the sandbox's state: they stay.

A snapshot's rows keep their ids; their insertion order (`seq`) is given anew on a restore, in
the order they had, since another account may have taken a number since."""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, LargeBinary, Table, delete, func, insert, select, text

from server.core.principals import Principal
from server.store import deferred
from server.store.listing import ownership
from server.store.prepared import insert_into
from server.store.records import Records, Repository
from server.store.tables import (
    api_keys,
    events,
    events_to_route,
    idempotency_keys,
    metadata,
    request_log_batches,
    sandbox_snapshot_contents,
    sandbox_snapshots,
)

FORMAT = 1  # of a snapshot's content; a later one reads this one's
_NOT_STATE = frozenset({api_keys, idempotency_keys, sandbox_snapshots, request_log_batches})


@cache
def _state_tables() -> tuple[Table, ...]:
    """The tables a sandbox's rows are in, each after those it refers to."""
    return tuple(
        table
        for table in metadata.sorted_tables
        if {"account_id", "environment"} <= set(table.c.keys()) and table not in _NOT_STATE
    )


@cache
def _binary(table: Table) -> frozenset[str]:
    """The columns of bytes, which a snapshot's JSON holds as base64."""
    return frozenset(str(c.name) for c in table.columns if isinstance(c.type, LargeBinary))


@dataclass(frozen=True)
class Captured:
    content: bytes  # compressed
    objects: int  # the rows with a public id: objects, events, deliveries, emails, the clock
    frozen_time: int | None  # the test clock's time, if the sandbox has one


class SandboxState:
    """The sandbox of one caller, as a whole."""

    def __init__(self, connection: Connection, principal: Principal):
        self.connection = connection
        self.principal = principal

    def capture(self) -> Captured:
        """Every row of the sandbox, as one moment saw them: on PostgreSQL the reads share one
        snapshot of the database (this must be the transaction's first statement)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        saved: dict[str, Any] = {}
        objects, frozen_time = 0, None
        for table in _state_tables():
            columns = [c for c in table.columns if c.name != "seq"]
            query = select(*columns).where(*ownership(table, self.principal))
            if "seq" in table.c:
                query = query.order_by(table.c.seq)
            rows = [list(row) for row in self.connection.execute(query)]
            if not rows:
                continue
            names = [str(c.name) for c in columns]
            binary = [i for i, name in enumerate(names) if name in _binary(table)]
            for row in rows:
                for i in binary:
                    row[i] = base64.b64encode(row[i]).decode()
            saved[str(table.name)] = {"columns": names, "rows": rows}
            if "id" in table.c:
                objects += len(rows)
            if table.name == "test_clocks":
                frozen_time = rows[0][names.index("frozen_time")]
        to_route = self.connection.execute(
            select(events.c.id)
            .join(events_to_route, events_to_route.c.event_seq == events.c.seq)
            .where(*ownership(events, self.principal))
        )
        content = {"format": FORMAT, "tables": saved, "to_route": list(to_route.scalars())}
        return Captured(zlib.compress(orjson.dumps(content), 1), objects, frozen_time)

    def restore(self, content: bytes) -> None:
        """Replace the sandbox's rows with those `content` captured, in this transaction."""
        captured = orjson.loads(zlib.decompress(content))
        self.wipe()
        for table in _state_tables():
            saved = captured["tables"].get(table.name)
            if saved is None:
                continue
            # A column added since keeps its default; one dropped since is left out.
            kept = [(i, name) for i, name in enumerate(saved["columns"]) if name in table.c]
            binary = _binary(table)
            rows = [
                {name: base64.b64decode(row[i]) if name in binary else row[i] for i, name in kept}
                for row in saved["rows"]
            ]
            self.connection.execute(insert(table), rows)
        if captured["to_route"]:
            seqs = select(events.c.seq).where(events.c.id.in_(captured["to_route"]))
            self.connection.execute(insert(events_to_route).from_select(["event_seq"], seqs))

    def wipe(self) -> None:
        """Delete every row of the sandbox."""
        owned_events = select(events.c.seq).where(*ownership(events, self.principal))
        self.connection.execute(
            delete(events_to_route).where(events_to_route.c.event_seq.in_(owned_events))
        )
        for table in reversed(_state_tables()):
            self.connection.execute(delete(table).where(*ownership(table, self.principal)))


SNAPSHOTS = Records(sandbox_snapshots, "snap")
_CONTENT = insert_into(sandbox_snapshot_contents)


class SnapshotRepository(Repository):
    """The caller's snapshots; each one's content in a row of its own, read only to restore."""

    records = SNAPSHOTS

    def add_captured(self, name: str, captured: Captured, at: int) -> dict[str, Any]:
        fields = {
            "name": name,
            "objects": captured.objects,
            "size": len(captured.content),
            "frozen_time": captured.frozen_time,
        }
        record = self.add(fields, at)
        values = {"snapshot_id": record["id"], "content": captured.content}
        # After the snapshot's row, whether that was held back (store/deferred.py) or not.
        if not deferred.hold(self.connection, _CONTENT, values):
            _CONTENT.execute(self.connection, values)
        return record

    def content(self, snapshot_id: str) -> bytes:
        table = sandbox_snapshot_contents
        query = select(table.c.content).where(table.c.snapshot_id == snapshot_id)
        return self.connection.execute(query).scalar_one()

    def remove(self, snapshot_id: str) -> bool:
        if self._row(snapshot_id) is None:
            return False
        table = sandbox_snapshot_contents
        self.connection.execute(delete(table).where(table.c.snapshot_id == snapshot_id))
        self.connection.execute(self.records.delete, {"object_id": snapshot_id})
        return True

    def usage(self) -> tuple[int, int]:
        """How many snapshots the caller keeps, and their size in bytes."""
        table = sandbox_snapshots
        query = select(func.count(), func.coalesce(func.sum(table.c.size), 0)).where(
            *ownership(table, self.principal)
        )
        count, size = self.connection.execute(query).one()
        return int(count), int(size)
