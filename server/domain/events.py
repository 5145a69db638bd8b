"""Events: every change the API reports. The domain publishes them to its unit of work, which
records them in the transaction of the change; the scheduler then delivers each to the webhook
endpoints that want it."""

from __future__ import annotations

from typing import Any

from server.core.errors import NotFound
from server.core.pagination import PageRequest
from server.domain.terms import DAY
from server.store.unit_of_work import UnitOfWork

RETENTION = 30 * DAY
ALL_TYPES = "*"

# The kinds of object an event carries: how the API shows it (server/api/representation.py).
CONTRACTOR, QUOTE, APPLICATION = "contractor", "quote", "application_session"
POLICY, ASSIGNMENT, INVOICE = "policy", "assignment", "invoice"
CERTIFICATE, JOB_CATEGORY = "certificate", "job_category"
DELETED = "deleted"


def wanted(enabled_events: list[str], event_type: str) -> bool:
    """Whether an endpoint that enabled `enabled_events` receives events of `event_type`."""
    return ALL_TYPES in enabled_events or event_type in enabled_events


def deletion(object_id: str, kind: str, at: int) -> dict[str, Any]:
    """The record a `*.deleted` event carries."""
    return {"id": object_id, "object": kind, "deleted": True, "deleted_at": at}


def retrieve(uow: UnitOfWork, event_id: str) -> dict[str, Any]:
    found = uow.events.get_since(event_id, uow.now - RETENTION)
    if found is None:
        raise NotFound("event", event_id, param="event_id")
    return found


def list_(uow: UnitOfWork, page: PageRequest, event_type: str | None) -> list[dict[str, Any]]:
    return uow.events.page_since(page, uow.now - RETENTION, event_type)
