"""The outermost layer: what every request and response gets, whatever answers it.

Each request's log lines carry its id, and once served it has an access line (server.access)
and is counted in the metrics (server/core/metrics.py), both naming its route template, never the
path itself: a path may be a capability (/files/<token>). A sandbox's request and its answer are
noted for its request log (server/middleware/request_log.py).

Every response carries a `request-id` header and `X-Content-Type-Options: nosniff`, and once
the API key is known a `Ten99Policy-Environment` header, the environment that answered. A body
that declares more than 1 MiB is refused before it is read (validation refuses a chunked one as
it reads it). A path without parameters is not a value of its sibling's parameter: PUT on
/assignments/extend is a 405 (extend takes only POST), not an update of an assignment whose id
would be "extend".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core import logs, metrics
from server.middleware.errors import RequestRefused, send_refusal
from server.middleware.request_ids import assign_request_id
from server.middleware.request_log import RequestLog
from server.middleware.routes import RouteTemplates, static_path_methods, upload_paths
from server.middleware.security import ENVIRONMENT_HEADER, token_info_of
from server.middleware.validation import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, too_large

access = logging.getLogger("server.access")
# Requests that send no body (their receive is not wrapped to note one for the request log).
BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestEnvelope:
    def __init__(
        self,
        app: ASGIApp,
        spec: dict,
        fixed_paths: Iterable[str] = (),
        request_log: RequestLog | None = None,
    ):
        self.app = app
        self.static_methods = static_path_methods(spec)
        self.upload_paths = upload_paths(spec)
        self.routes = RouteTemplates(spec, fixed_paths)
        self.request_log = request_log  # notes each request and its answer, once sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = assign_request_id(scope)
        # connexion's routing records the operation in a copy of the scope; in this dict, which
        # the copy shares, it is found here too (for the access line).
        scope.setdefault("extensions", {})
        logs.bind(request_id=request_id)
        started = time.perf_counter()
        status = 500  # if the app sends nothing
        sent: list[Message] = []  # for the request log
        received: list[bytes] = []
        if self.request_log is not None and scope["method"] not in BODILESS:
            receive = _noting(receive, received)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                # The operations layer sets both itself.
                if "request-id" not in headers:
                    headers["request-id"] = request_id
                token_info = token_info_of(scope)
                if token_info and ENVIRONMENT_HEADER not in headers:
                    headers[ENVIRONMENT_HEADER] = token_info["principal"].environment.value
                # No browser may guess another type than the one declared (a PDF, a page).
                headers["x-content-type-options"] = "nosniff"
            sent.append(message)
            await send(message)

        try:
            refused = self._refusal(scope)
            if refused is not None:
                await send_refusal(send_with_id, refused)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.request_log is not None:
                self.request_log.note(scope, received, sent, seconds)
            route, label = self.routes.names(scope)
            metrics.request_done(scope["method"], label, status, seconds)
            if access.isEnabledFor(logging.INFO):
                details = {"method": scope["method"], "route": route, "status": status}
                access.info("request", extra={**details, "duration_ms": round(seconds * 1000, 1)})

    def _refusal(self, scope: Scope) -> RequestRefused | None:
        """Refusals that need nothing but the request line and headers."""
        path = scope["path"].rstrip("/")
        methods = self.static_methods.get(path)
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        if methods and method not in methods:
            allowed = ", ".join(sorted(methods))
            return RequestRefused(
                405,
                "method_not_allowed",
                f"{scope['method']} is not allowed on {scope['path']}; allowed: {allowed}.",
                headers={"Allow": allowed},
            )
        limit = MAX_UPLOAD_BYTES if path in self.upload_paths else MAX_BODY_BYTES
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return too_large(limit)
        return None


def _noting(receive: Receive, received: list[bytes]) -> Receive:
    """`receive`, noting the request's body as it comes."""

    async def receive_noted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            received.append(message.get("body", b""))
        return message

    return receive_noted
