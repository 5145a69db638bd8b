"""The sandbox's request log (server/domain/request_logs.py): each request a sandbox key makes,
its answer whatever answered it (an operation, or a refusal of validation, idempotency or the
rate limit), noted as it passes.

Once the answer is sent, this only picks out what the log keeps (a few headers, the bodies as
they were, up to a bound) and queues it. Ten times a second the queue is written on the event
loop, in batches, redacting there: each sandbox's requests of a batch as one row. If the
database falls behind, the queue keeps its newest MAX_QUEUED entries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.contract.spec import HTTP_METHODS
from server.core import clock
from server.core.faults import HEADER as FAULT_HEADER
from server.core.principals import Environment, Principal
from server.domain import request_logs
from server.domain.request_logs import Entry
from server.middleware.faults import UNANSWERED
from server.middleware.idempotency import KEY_ALIAS, KEY_HEADER, REPLAYED_HEADER
from server.middleware.request_ids import request_id_of
from server.middleware.resolver import handler_name
from server.middleware.security import token_info_of
from server.store import request_logs as store
from server.store.db import Database

log = logging.getLogger("server.request_log")

FLUSH_SECONDS = 0.1
BATCH = 1000  # entries written at once
PRUNE_SECONDS = 60  # how often a sandbox's log is cut back to its bound
MAX_QUEUED = 20_000

# More than a body the log shows: the cut is made on the characters, after redaction.
MAX_BODY_BYTES = 4 * request_logs.MAX_BODY_CHARACTERS
# The log's own reads are not logged: reading the log would fill it.
NOT_LOGGED = frozenset({"listRequestLogs", "retrieveRequestLog"})
_KEY, _KEY_ALIAS = KEY_HEADER.lower().encode(), KEY_ALIAS.lower().encode()
_FAULT = FAULT_HEADER.lower().encode()
_REPLAYED = REPLAYED_HEADER.lower().encode()


def _first_bytes(chunks: list[bytes]) -> bytes:
    """The body of these chunks, up to what the log may show of it."""
    body = chunks[0]
    if len(chunks) > 1:
        taken, size = [], 0
        for chunk in chunks:
            if size >= MAX_BODY_BYTES:
                break
            taken.append(chunk)
            size += len(chunk)
        body = b"".join(taken)
    return body if len(body) <= MAX_BODY_BYTES else body[:MAX_BODY_BYTES]


class RequestLogWriter:
    """The queue of entries, written on the event loop that answers the requests, a batch of at
    most BATCH at a time: on SQLite a batch is a millisecond or two of the loop, where a thread
    would take the interpreter from the loop in slices of milliseconds and another process
    would hold the writers' lock the loop waits on while the system runs something else
    (server/store/db.py); on PostgreSQL the loop goes on while a batch is written."""

    def __init__(self, database: Database, keep: int):
        self._database = database
        self._keep = keep
        self._queue: deque[Entry] = deque(maxlen=MAX_QUEUED)
        self._pruned: dict[Principal, float] = {}
        self._writing: asyncio.Task | None = None
        self._hurry = asyncio.Event()  # the writing task's: write now, without waiting

    def add(self, entry: Entry) -> None:
        """Queue the entry; on an event loop, have it written shortly (elsewhere, `write_all`
        writes it)."""
        self._queue.append(entry)
        writing = self._writing
        if writing is not None and not writing.done() and writing.get_loop().is_running():
            return  # it writes this entry too
        # Only then: on Python 3.11 asking for the running loop costs a system call.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._hurry = asyncio.Event()
        self._writing = loop.create_task(self._write_soon(self._hurry))

    async def _write_soon(self, hurry: asyncio.Event) -> None:
        while self._queue:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hurry.wait(), FLUSH_SECONDS)
            # Only what was queued by now: what comes while it is written waits for the next
            # round, or each round would write the few entries answered during the last one.
            for _ in range(math.ceil(len(self._queue) / BATCH)):
                try:
                    await self._database.run(self.flush)
                except Exception:  # what is queued waits for the next request's round
                    log.exception("the request log could not be written")
                    return
                await asyncio.sleep(0)  # the loop's other work between batches

    def flush(self) -> None:
        """Write a batch of what is queued, and cut back the logs that are due."""
        logged: dict[Principal, list[dict]] = {}
        for _ in range(min(BATCH, len(self._queue))):
            entry = self._queue.popleft()
            logged.setdefault(entry.principal, []).append(request_logs.kept(entry))
        if not logged:
            return
        now = time.monotonic()
        due = [p for p in logged if now - self._pruned.get(p, 0.0) > PRUNE_SECONDS]
        rows = store.batches_of(logged)
        with self._database.server_work() as work:
            work.log_requests(rows)
            if due:
                work.prune_request_logs(due, self._keep)
        for principal in due:
            self._pruned[principal] = now

    def write_all(self) -> None:
        while self._queue:
            self.flush()

    async def close(self) -> None:
        """Write all that is queued (at shutdown). A write under way ends first: cut off, its
        statement could still commit on PostgreSQL after the database was closed."""
        writing = self._writing
        # A task of another loop (a test client's, gone) never runs again: write_all writes.
        if (
            writing is not None
            and not writing.done()
            and writing.get_loop() is asyncio.get_running_loop()
        ):
            self._hurry.set()
            await writing
        await self._database.run(self.write_all)


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
        routed = scope.get("extensions", {}).get("connexion_routing", {})
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
        self.writer.add(
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
