"""Handlers, one module per resource tag; see server/resolver.py for how operationIds land here
and server/middleware/operations.py for what a handler is given: the spec's parameters by
name, `body` (already validated against the spec), `principal`, `database`, `base_url`."""

from __future__ import annotations

from server.domain.pagination import PageRequest


def page(limit: int, starting_after: str | None, ending_before: str | None) -> PageRequest:
    return PageRequest(limit=limit, starting_after=starting_after, ending_before=ending_before)


def deleted(object_id: str, kind: str, deleted_at: int) -> dict:
    return {"id": object_id, "object": kind, "deleted": True, "deleted_at": deleted_at}
