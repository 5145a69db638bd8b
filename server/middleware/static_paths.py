"""A path without parameters is not a value of its sibling's parameter: PUT on
/assignments/extend is a 405 (extend takes only POST), not an update of an assignment whose id
would be "extend"."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from server.spec import HTTP_METHODS


class StaticPathMethods:
    def __init__(self, app: ASGIApp, spec: dict):
        self.app = app
        base = urlparse(spec.get("servers", [{}])[0].get("url", "")).path.rstrip("/")
        self._methods = {
            base + template: {method.upper() for method in item if method in HTTP_METHODS}
            for template, item in spec.get("paths", {}).items()
            if "{" not in template
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            methods = self._methods.get(scope["path"].rstrip("/"))
            method = "GET" if scope["method"] == "HEAD" else scope["method"]
            if methods and method not in methods:
                raise HTTPException(405)
        await self.app(scope, receive, send)
