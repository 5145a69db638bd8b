"""Events: every change the API reports, recorded in the transaction of the change, with a
delivery to each enabled webhook endpoint that wants its type."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.pagination import PageRequest
from server.domain.terms import DAY
from server.store import events as queries
from server.store import webhooks
from server.store.db import Database
from server.store.events import EVENTS

RETENTION = 30 * DAY
ALL_TYPES = "*"

# How the API shows an event's object: the kinds of server/views.py.
CONTRACTOR, QUOTE, APPLICATION = "contractor", "quote", "application_session"
POLICY, ASSIGNMENT, DELETED = "policy", "assignment", "deleted"


def record(
    session: Session,
    principal: Principal,
    event_type: str,
    kind: str,
    obj: dict[str, Any],
    at: int,
) -> None:
    """Record that `obj` (as the domain presents it, right after the change) changed, in the
    caller's transaction, and queue its delivery to every endpoint that wants it."""
    event = EVENTS.create(
        session,
        principal,
        {"type": event_type, "object_kind": kind, "object_id": obj["id"], "data": obj},
        at=at,
    )
    for endpoint in webhooks.enabled_endpoints(session, principal):
        wanted = endpoint["enabled_events"]
        if ALL_TYPES in wanted or event_type in wanted:
            webhooks.add_delivery(session, principal, endpoint["id"], event, at)


def deletion(obj_id: str, kind: str, at: int) -> dict[str, Any]:
    """The deletion confirmation an `*.deleted` event carries."""
    return {"id": obj_id, "object": kind, "deleted": True, "deleted_at": at}


def retrieve(db: Database, principal: Principal, event_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return queries.get_since(session, principal, event_id, now() - RETENTION)


def list_(
    db: Database, principal: Principal, page: PageRequest, event_type: str | None
) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return queries.page(
            session, principal, page, since=now() - RETENTION, event_type=event_type
        )
