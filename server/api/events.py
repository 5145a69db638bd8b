"""Event operations."""

from __future__ import annotations

from server import views
from server.api import page
from server.domain import events
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def list_events(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
    type: str | None = None,  # the query parameter's name
):
    found = events.list_(database, principal, page(limit, starting_after, ending_before), type)
    return [views.event(r, base_url) for r in found]


def retrieve_event(database: Database, principal: Principal, event_id: str, base_url: str):
    return views.event(events.retrieve(database, principal, event_id), base_url)
