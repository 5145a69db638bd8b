"""Business rules, free of HTTP and SQL. Each operation takes the unit of work it runs in
(server/store/unit_of_work.py), with the caller, the time and the repositories."""

from __future__ import annotations

from typing import Any

from server.core.errors import InvalidRequest, NotFound


def required(
    record: dict[str, Any] | None,
    kind: str,
    object_id: str,
    *,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The record, or NotFound naming what is missing (and the request field that named it)."""
    if record is None:
        raise NotFound(kind, object_id, param=param, code=code)
    return record


def sandbox_only(live: bool, what: str) -> None:
    """A sandbox tool refuses a live key."""
    if live:
        raise InvalidRequest(
            f"{what} are a sandbox tool: use a sandbox key (t9k_test_...).", code="sandbox_only"
        )
