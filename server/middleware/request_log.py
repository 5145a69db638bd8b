"""The sandbox's request log (server/domain/request_logs.py): each request a sandbox key makes,
its answer whatever answered it (an operation, or a refusal of validation, idempotency or the
rate limit), noted as it passes.

The request's own path only copies what it sees (a few references and the bodies' bytes, up to
a bound) into a queue, which is written in batches after the answers, redacting and parsing
there, ten times a second. If the database falls behind, the queue keeps its newest MAX_QUEUED
entries."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, NamedTuple

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.contract.spec import HTTP_METHODS
from server.core import clock
from server.core.faults import HEADER as FAULT_HEADER
from server.core.principals import Environment, Principal
from server.domain import request_logs
from server.middleware.faults import UNANSWERED
from server.middleware.idempotency import KEY_ALIAS, KEY_HEADER, REPLAYED_HEADER
from server.middleware.request_ids import request_id_of
from server.middleware.resolver import handler_name
from server.middleware.security import token_info_of
from server.store.db import Database

log = logging.getLogger("server.request_log")

FLUSH_SECONDS = 0.1
BATCH = 200  # entries written at once
PRUNE_SECONDS = 60  # how often a sandbox's log is cut back to its bound
MAX_QUEUED = 20_000
# More than a body the log shows: the cut is made on the characters, after redaction.
MAX_BODY_BYTES = 4 * request_logs.MAX_BODY_CHARACTERS
# The log's own reads are not logged: reading the log would fill it.
NOT_LOGGED = frozenset({"listRequestLogs", "retrieveRequestLog"})
_REPLAYED = REPLAYED_HEADER.lower()


class Entry(NamedTuple):
    request_id: str
    principal: Principal
    created: int
    method: str
    path: str
    operation_id: str | None
    status: int
    duration_us: int
    idempotency_key: str | None
    replayed: bool
    fault: str | None
    request_type: str
    request_body: bytes
    response_type: str
    response_body: bytes


class RequestLogWriter:
    """The queue of entries, written on the event loop that answers the requests, a batch of at
    most BATCH at a time: on SQLite a batch is a few milliseconds of the loop, and a thread
    would take the interpreter from the loop in slices of milliseconds (server/store/db.py); on
    PostgreSQL the loop goes on while a batch is written."""

    def __init__(self, database: Database, keep: int):
        self._database = database
        self._keep = keep
        self._queue: deque[Entry] = deque(maxlen=MAX_QUEUED)
        self._pruned: dict[Principal, float] = {}
        self._writing: asyncio.Task | None = None

    def add(self, entry: Entry) -> None:
        """Queue the entry; on an event loop, have it written shortly (elsewhere, `write_all`
        writes it)."""
        self._queue.append(entry)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        writing = self._writing
        if writing is None or writing.done() or writing.get_loop() is not loop:
            self._writing = loop.create_task(self._write_soon())

    async def _write_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        while self._queue:
            try:
                await self._database.run(self.flush)
            except Exception:  # what is queued waits for the next request's round
                log.exception("the request log could not be written")
                return
            await asyncio.sleep(0)  # the loop's other work between batches

    def flush(self) -> None:
        """Write a batch of what is queued, and cut back the logs that are due."""
        taken: list[Entry] = []
        while self._queue and len(taken) < BATCH:
            taken.append(self._queue.popleft())
        if not taken:
            return
        now = time.monotonic()
        due = {
            entry.principal
            for entry in taken
            if now - self._pruned.get(entry.principal, 0.0) > PRUNE_SECONDS
        }
        rows = [_row(entry) for entry in taken]
        with self._database.server_work() as work:
            work.log_requests(rows)
            if due:
                work.prune_request_logs(list(due), self._keep)
        for principal in due:
            self._pruned[principal] = now

    def write_all(self) -> None:
        while self._queue:
            self.flush()

    async def close(self) -> None:
        """Write all that is queued (at shutdown)."""
        if self._writing is not None and not self._writing.done():
            self._writing.cancel()
        await self._database.run(self.write_all)


def _row(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.request_id,
        "account_id": entry.principal.account_id,
        "environment": entry.principal.environment.value,
        "created": entry.created,
        "method": entry.method,
        "path": entry.path[:2048],
        "operation_id": entry.operation_id,
        "status": entry.status,
        "duration_us": entry.duration_us,
        "error_code": request_logs.error_code(entry.status, entry.response_body),
        "idempotency_key": entry.idempotency_key,
        "idempotent_replayed": entry.replayed,
        "test_fault": entry.fault,
        "request_body": request_logs.shown_body(entry.request_body, entry.request_type),
        "response_body": request_logs.shown_body(entry.response_body, entry.response_type),
    }


class _Capture:
    """What one request sent and was answered, as it passes."""

    def __init__(self) -> None:
        self.request_body = bytearray()
        self.status = 0
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.response_body = bytearray()

    def received(self, message: Message) -> None:
        if message["type"] == "http.request" and len(self.request_body) < MAX_BODY_BYTES:
            self.request_body += message.get("body", b"")[:MAX_BODY_BYTES]

    def sent(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body" and len(self.response_body) < MAX_BODY_BYTES:
            self.response_body += message.get("body", b"")[:MAX_BODY_BYTES]


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
    def __init__(self, app: ASGIApp, writer: RequestLogWriter, spec: dict, handlers: str):
        self.app = app
        self.writer = writer
        self.operation_ids = _operation_ids(spec, handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        capture = _Capture()
        started = time.perf_counter()

        async def receive_noted() -> Message:
            message = await receive()
            capture.received(message)
            return message

        async def send_noted(message: Message) -> None:
            capture.sent(message)
            await send(message)

        try:
            await self.app(scope, receive_noted, send_noted)
        finally:
            self._note(scope, capture, time.perf_counter() - started)

    def _note(self, scope: Scope, capture: _Capture, seconds: float) -> None:
        token_info = token_info_of(scope)
        principal = token_info["principal"] if token_info else None
        if principal is None or principal.environment is not Environment.SANDBOX:
            return
        routed = scope.get("extensions", {}).get("connexion_routing", {})
        operation_id = self.operation_ids.get(routed.get("operation_id", ""))
        if operation_id in NOT_LOGGED:
            return
        for message in scope.get(UNANSWERED, ()):  # the answer dropped on purpose, as it was
            capture.sent(message)
        request = Headers(scope=scope)
        response = Headers(raw=capture.response_headers)
        query = scope.get("query_string", b"").decode("latin-1")
        self.writer.add(
            Entry(
                request_id=request_id_of(scope) or "",
                principal=principal,
                created=clock.now(),
                method=scope["method"],
                path=scope["path"] + (f"?{query}" if query else ""),
                operation_id=operation_id,
                status=capture.status or 500,
                duration_us=int(seconds * 1_000_000),
                idempotency_key=(request.get(KEY_HEADER) or request.get(KEY_ALIAS) or "")[:255]
                or None,
                replayed=response.get(_REPLAYED) == "true",
                fault=(request.get(FAULT_HEADER) or "")[:40] or None,
                request_type=request.get("content-type", ""),
                request_body=bytes(capture.request_body),
                response_type=response.get("content-type", ""),
                response_body=bytes(capture.response_body),
            )
        )
