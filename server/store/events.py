"""Event rows: what changed, recorded in the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.store import deferred
from server.store.listing import owned, page_of
from server.store.records import Records, Repository, owner
from server.store.tables import events

EVENTS = Records(events, "evt")


@dataclass(frozen=True)
class Change:
    """An event the unit of work writes at its commit: the record of an object right after it
    changed, and the kind of object it is (how the API will show it)."""

    type: str
    object_kind: str
    record: dict[str, Any]


class EventRepository(Repository):
    records = EVENTS

    def page_since(self, page: PageRequest, since: int, event_type: str | None) -> list[dict]:
        """One page of the caller's events created at or after `since`, of one type if given."""
        query = owned(events, self.principal).where(events.c.created >= since)
        if event_type is not None:
            query = query.where(events.c.type == event_type)
        return [EVENTS.record(row) for row in page_of(self.connection, events, query, page)]

    def about(self, object_id: str, event_type: str) -> list[dict]:
        """The caller's events of the type about the object, the oldest first."""
        query = owned(events, self.principal).where(
            events.c.object_id == object_id, events.c.type == event_type
        )
        return [EVENTS.record(row) for row in self.connection.execute(query.order_by(events.c.seq))]

    def get_since(self, event_id: str, since: int) -> dict | None:
        found = self.get(event_id)
        return found if found is not None and found["created"] >= since else None


def write(connection: Connection, principal: Principal, changes: list[Change], at: int) -> None:
    """Record the events; the scheduler gives each its deliveries, after the request."""
    for change in changes:
        values = {
            "id": EVENTS.new_id(),
            "created": at,
            "type": change.type,
            "object_kind": change.object_kind,
            "object_id": change.record["id"],
            "data": change.record,
            **owner(principal),
        }
        if not deferred.hold(connection, EVENTS.insert, values, routed=True):
            deferred.insert_now(connection, EVENTS.insert, values, routed=True)
