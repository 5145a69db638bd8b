"""The outermost layer: what every request and response gets, whatever answers it.

Each request's log lines carry its id, and once served it has an access line (server.access)
naming its route template, never the path itself: a path may be a capability (/files/<token>).

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
from urllib.parse import urlparse

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import logs
from server.core.ids import new_id
from server.core.links import APPLICATION_PAGE, FILES
from server.middleware.errors import RequestRefused, send_refusal
from server.middleware.security import ENVIRONMENT_HEADER, token_info_of
from server.middleware.validation import MAX_BODY_BYTES, too_large
from server.resolver import snake_case
from server.spec import HTTP_METHODS

_REQUEST_ID = "request_id"
access = logging.getLogger("server.access")
# The templates of the paths served beside the API's operations, by their first segment.
_OTHER_ROUTES = {"/files": FILES, "/apply": APPLICATION_PAGE}


def new_request_id() -> str:
    return new_id("req", 16)


def request_id_of(scope: Scope) -> str | None:
    return scope.get("state", {}).get(_REQUEST_ID)


def static_path_methods(spec: dict) -> dict[str, set[str]]:
    """The methods of each spec path without parameters, by full request path."""
    base = urlparse(spec.get("servers", [{}])[0].get("url", "")).path.rstrip("/")
    return {
        base + template: {method.upper() for method in item if method in HTTP_METHODS}
        for template, item in spec.get("paths", {}).items()
        if "{" not in template
    }


def operation_routes(spec: dict) -> dict[str, str]:
    """The full path template of each operation, by the name of its handler, which connexion's
    routing records (server/resolver.py)."""
    base = urlparse(spec.get("servers", [{}])[0].get("url", "")).path.rstrip("/")
    return {
        snake_case(operation["operationId"]): base + template
        for template, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


class RequestEnvelope:
    def __init__(self, app: ASGIApp, spec: dict):
        self.app = app
        self.static_methods = static_path_methods(spec)
        self.routes = operation_routes(spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.setdefault("state", {}).setdefault(_REQUEST_ID, new_request_id())
        # connexion's routing records the operation in a copy of the scope; in this dict, which
        # the copy shares, it is found here too (for the access line).
        scope.setdefault("extensions", {})
        logs.bind(request_id=request_id)
        started = time.perf_counter()
        status = 500  # if the app sends nothing

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
            await send(message)

        try:
            refused = self._refusal(scope)
            if refused is not None:
                await send_refusal(send_with_id, refused)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            if access.isEnabledFor(logging.INFO):
                details = {"method": scope["method"], "route": self._route(scope), "status": status}
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                access.info("request", extra={**details, "duration_ms": duration_ms})

    def _route(self, scope: Scope) -> str:
        routed = scope.get("extensions", {}).get("connexion_routing", {})
        handler = routed.get("operation_id") or ""
        route = self.routes.get(handler.rpartition(".")[2])
        if route is not None:
            return route
        # /files/<token>, /apply/<session id>/accept: the capability becomes its placeholder.
        _, first, *rest = scope["path"].split("/", 3)
        template = _OTHER_ROUTES.get(f"/{first}")
        if template is not None and rest and rest[0]:
            return "/".join([template, *rest[1:]])
        return scope["path"]

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
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
                return too_large()
        return None
