"""Every response carries a `request-id` header."""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def new_request_id() -> str:
    return "req_" + secrets.token_urlsafe(12)


class RequestIdMiddleware:
    """Stamps the request's id on its response. The app adds it twice: outermost, so that error
    responses carry the id too, and innermost, so that response validation sees the header."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request_id = state.setdefault("request_id", new_request_id())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
