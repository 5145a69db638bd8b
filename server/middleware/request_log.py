"""The sandbox's request log (server/domain/request_logs.py): each request a sandbox key makes,
its answer whatever answered it (an operation, or a refusal of validation, idempotency or the
rate limit), noted as it passes.

Once the answer is sent, this only picks out what the log keeps (a few headers, the bodies as
they were, up to a bound) and queues it: the redaction and the writing come later, elsewhere
(server/worker/request_log.py)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.contract.spec import HTTP_METHODS
from server.core import clock
from server.core.faults import HEADER as FAULT_HEADER
from server.core.principals import Environment
from server.domain import request_logs
from server.domain.request_logs import Entry
from server.middleware.faults import UNANSWERED
from server.middleware.idempotency import KEY_ALIAS, KEY_HEADER, REPLAYED_HEADER
from server.middleware.request_ids import request_id_of
from server.middleware.resolver import handler_name
from server.middleware.security import token_info_of
from server.worker.request_log import RequestLogQueue

# More than a body the log shows: the cut is made on the characters, after redaction.
MAX_BODY_BYTES = 4 * request_logs.MAX_BODY_CHARACTERS
# The log's own reads are not logged: reading the log would fill it.
NOT_LOGGED = frozenset({"listRequestLogs", "retrieveRequestLog"})
_KEY, _KEY_ALIAS = KEY_HEADER.lower().encode(), KEY_ALIAS.lower().encode()
_FAULT = FAULT_HEADER.lower().encode()
_REPLAYED = REPLAYED_HEADER.lower().encode()


def _first_bytes(chunks: list[bytes]) -> bytes:
    """The body of these chunks, up to what the log may show of it."""
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks[:8])
    return body if len(body) <= MAX_BODY_BYTES else body[:MAX_BODY_BYTES]


def _operation_ids(spec: dict, root: str) -> dict[str, str]:
    """The contract's operationId of each handler connexion's routing names."""
    return {
        handler_name(root, (operation.get("tags") or ["default"])[0], operation["operationId"]): (
            operation["operationId"]
        )
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


class RequestLog:
    def __init__(self, app: ASGIApp, queue: RequestLogQueue, spec: dict, handlers: str):
        self.app = app
        self.queue = queue
        self.operation_ids = _operation_ids(spec, handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[bytes] = []
        sent: list[Message] = []
        started = time.perf_counter()

        async def receive_noted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message

        async def send_noted(message: Message) -> None:
            sent.append(message)
            await send(message)

        try:
            await self.app(scope, receive_noted, send_noted)
        finally:
            self._note(scope, received, sent, time.perf_counter() - started)

    def _note(
        self, scope: Scope, received: list[bytes], sent: list[Message], seconds: float
    ) -> None:
        token_info = token_info_of(scope)
        principal = token_info["principal"] if token_info else None
        if principal is None or principal.environment is not Environment.SANDBOX:
            return
        routed = scope["extensions"].get("connexion_routing", {})
        operation_id = self.operation_ids.get(routed.get("operation_id", ""))
        if operation_id in NOT_LOGGED:
            return
        status, replayed, response_type, response_body = 500, False, b"", []
        # The answer dropped on purpose is logged as it was.
        for message in (*sent, *scope.get(UNANSWERED, ())):
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    name = name.lower()
                    if name == b"content-type":
                        response_type = value
                    elif name == _REPLAYED:
                        replayed = value == b"true"
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
        key = alias = fault = request_type = b""
        for name, value in scope["headers"]:  # lowercase, as ASGI servers give them
            if name == b"content-type":
                request_type = value
            elif name == _KEY:
                key = value
            elif name == _KEY_ALIAS:
                alias = value
            elif name == _FAULT:
                fault = value
        query = scope["query_string"]
        self.queue.add(
            Entry(
                request_id_of(scope) or "",
                principal,
                clock.now(),
                scope["method"],
                f"{scope['path']}?{query.decode('latin-1')}" if query else scope["path"],
                operation_id,
                status,
                int(seconds * 1_000_000),
                (key or alias)[:255].decode("latin-1") or None,
                replayed,
                fault[:40].decode("latin-1") or None,
                request_type.decode("latin-1"),
                _first_bytes(received) if received else b"",
                response_type.decode("latin-1"),
                _first_bytes(response_body) if response_body else b"",
            )
        )
