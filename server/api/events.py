"""Event operations."""

from __future__ import annotations

from server import views
from server.api import database, page, principal, public_base
from server.domain import events
from server.domain.pagination import DEFAULT_LIMIT


def list_events(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
    type: str | None = None,  # the query parameter's name
):
    found = events.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before), type
    )
    return [views.event(r, public_base()) for r in found]


def retrieve_event(event_id: str, token_info: dict):
    return views.event(events.retrieve(database(), principal(token_info), event_id), public_base())
