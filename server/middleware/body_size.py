"""Request bodies over 1 MiB are refused with 413.

A body that declares its length is judged before it is read. A chunked body (no length) is
read here, up to the limit, and handed on with its length declared: connexion's validation
takes a request without Content-Length for one without a body.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.middleware.errors import RequestRefused

MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        413, "request_too_large", f"The request body must not be larger than {limit} bytes."
    )


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _too_large(self.max_bytes)
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        headers = [*scope["headers"], (b"content-length", str(len(body)).encode())]
        await self.app({**scope, "headers": headers}, replay_body(body, receive), send)


async def read_body(receive: Receive, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body from a receive channel; 413 past `max_bytes`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive channel that hands on a body already read, then the original channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
