"""Event rows: what changed, recorded with the change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.errors import NotFound
from server.domain.pagination import PageRequest
from server.store.listing import owned, page_of
from server.store.records import Records
from server.store.tables import events

EVENTS = Records(events, "event", "evt", "event_id")


def page(
    session: Session,
    principal: Principal,
    page: PageRequest,
    *,
    since: int,
    event_type: str | None,
) -> list[dict]:
    """One page of the caller's events created at or after `since`, of one type if given."""
    query = owned(events, principal).where(events.c.created >= since)
    if event_type is not None:
        query = query.where(events.c.type == event_type)
    return [EVENTS.as_dict(row) for row in page_of(session, events, query, page, kind="event")]


def get_since(session: Session, principal: Principal, event_id: str, since: int) -> dict:
    """The caller's event, if it was created at or after `since`; NotFound otherwise."""
    found = EVENTS.get(session, principal, event_id)
    if found["created"] < since:
        raise NotFound("event", event_id, param="event_id")
    return found


def get_any(session: Session, event_id: str) -> dict | None:
    """The event, whoever owns it: for the delivery worker, which has no caller."""
    row = session.execute(select(events).where(events.c.id == event_id)).first()
    return None if row is None else EVENTS.as_dict(row)
