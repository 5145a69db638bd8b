"""Faults on purpose (server/core/faults.py), for sandbox keys: a wait before the request, a
500 that says to retry with the request's unit of work rolled back (server/middleware/
operations.py raises it there), or the request done and committed, its answer dropped and the
connection closed. It runs after validation, which refuses a header that names no fault, and
outside the idempotency layer, which saves the dropped answer for the retry to get."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core.faults import HEADER, Fault, FaultKind, parse
from server.core.principals import Environment
from server.middleware.connections import ABORT
from server.middleware.errors import RequestRefused
from server.middleware.security import token_info_of

FAULT = "ten99.fault"  # the scope's key of the fault the request asked for
UNANSWERED = "ten99.unanswered"  # the answer the client never got, for the request log


def fault_of(scope: Scope) -> Fault | None:
    return scope.get(FAULT)


class Faults:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = Headers(scope=scope).get(HEADER) if scope["type"] == "http" else None
        token_info = token_info_of(scope)
        if not value or token_info is None:
            await self.app(scope, receive, send)
            return
        if token_info["principal"].environment is not Environment.SANDBOX:
            raise RequestRefused(
                400,
                "sandbox_only",
                f"{HEADER} is a sandbox tool: use a sandbox key (t9k_test_...).",
                param=HEADER,
            )
        try:
            fault = parse(value)
        except ValueError as invalid:
            raise RequestRefused(
                400, "invalid_input", f"{HEADER}: {invalid}", param=HEADER
            ) from None
        if fault.kind is FaultKind.LATENCY:
            await asyncio.sleep(fault.latency_ms / 1000)
        elif fault.kind is FaultKind.DISCONNECT_AFTER_COMMIT:
            await self._unanswered(scope, receive)
            return
        scope[FAULT] = fault
        await self.app(scope, receive, send)

    async def _unanswered(self, scope: Scope, receive: Receive) -> None:
        """The request, done, and its connection closed before a byte of the answer."""
        abort = scope.get("extensions", {}).get(ABORT)
        if abort is None:
            raise RuntimeError("this server cannot close a connection unanswered")

        dropped: list[Message] = scope.setdefault(UNANSWERED, [])

        async def drop(message: Message) -> None:
            dropped.append(message)

        await self.app(scope, receive, drop)
        abort()
        await asyncio.sleep(0)  # the connection's loss is noticed: the server answers nothing
