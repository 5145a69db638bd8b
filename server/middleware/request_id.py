"""The outermost layer: what every request and response gets, whatever answers it.

Every response carries a `request-id` header and `X-Content-Type-Options: nosniff`, and once
the API key is known a `Ten99Policy-Environment` header, the environment that answered. A body
that declares more than 1 MiB is refused before it is read (validation refuses a chunked one as
it reads it). A path
without parameters is not a value of its sibling's parameter: PUT on /assignments/extend is a
405 (extend takes only POST), not an update of an assignment whose id would be "extend".
"""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core.ids import new_id
from server.middleware.errors import RequestRefused, send_refusal
from server.middleware.validation import MAX_BODY_BYTES, too_large
from server.security import ENVIRONMENT_HEADER, token_info_of
from server.spec import HTTP_METHODS

_REQUEST_ID = "request_id"


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


class RequestEnvelope:
    def __init__(self, app: ASGIApp, spec: dict):
        self.app = app
        self.static_methods = static_path_methods(spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.setdefault("state", {}).setdefault(_REQUEST_ID, new_request_id())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
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

        refused = self._refusal(scope)
        if refused is not None:
            await send_refusal(send_with_id, refused)
            return
        await self.app(scope, receive, send_with_id)

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
