"""What handlers and the security layer share per app: settings and the database."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from server.config import Settings
from server.store.db import Database

_STATE_KEY = "ten99_services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database


class ServicesMiddleware:
    """Puts the app's Services into every request's scope state."""

    def __init__(self, app: ASGIApp, services: Services):
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("state", {})[_STATE_KEY] = self.services
        await self.app(scope, receive, send)


def services_of(scope: Scope) -> Services:
    return scope["state"][_STATE_KEY]
