"""Event operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import events
from server.store.unit_of_work import UnitOfWork


def list_events(
    uow: UnitOfWork,
    base_url: str,
    limit: int,
    starting_after=None,
    ending_before=None,
    type=None,  # the query parameter's name
) -> schemas.EventList:
    found = events.list_(uow, page("event", limit, starting_after, ending_before), type)
    return [show.event(r, base_url, live=uow.live) for r in found]


def retrieve_event(uow: UnitOfWork, event_id: str, base_url: str) -> schemas.Event:
    return show.event(events.retrieve(uow, event_id), base_url, live=uow.live)
