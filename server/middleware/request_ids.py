"""Each request's id: made once, by the outermost layer that sees the request (the envelope, or
the connection layer when it answers a request the app never sees), and kept in its scope."""

from __future__ import annotations

from starlette.types import Scope

from server.core.ids import new_id

_REQUEST_ID = "request_id"


def new_request_id() -> str:
    return new_id("req", 16)


def assign_request_id(scope: Scope) -> str:
    """The request's id, made now if it has none yet."""
    return scope.setdefault("state", {}).setdefault(_REQUEST_ID, new_request_id())


def request_id_of(scope: Scope) -> str | None:
    return scope.get("state", {}).get(_REQUEST_ID)
