"""The sandbox's request log (server/domain/request_logs.py): each request a sandbox key makes,
its answer whatever answered it (an operation, or a refusal of validation, idempotency or the
rate limit), noted as it passes.

Once the answer is sent, this only queues the request's and the answer's headers and bodies as
they passed (the bodies up to a bound). Ten times a second the queue goes, in batches, to
`serve`'s request-log process, which redacts and writes them, each sandbox's requests of a
batch as one row (server/worker/request_log_process.py). If that falls behind, the queue keeps
its newest MAX_QUEUED entries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import math
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.types import Message, Scope

from server.contract.spec import HTTP_METHODS
from server.core import clock
from server.core.principals import Environment
from server.domain import request_logs
from server.middleware.faults import UNANSWERED
from server.middleware.request_ids import request_id_of
from server.middleware.resolver import handler_name
from server.middleware.security import token_info_of
from server.store.db import Database
from server.worker import request_log_process as process
from server.worker.request_log_process import EntryWriter

log = logging.getLogger("server.request_log")

FLUSH_SECONDS = 0.1
BATCH = 1000  # entries written at once
MAX_QUEUED = 20_000
CLOSE_SECONDS = 10  # how long, at shutdown, the request-log process has to answer
IOV_MAX = os.sysconf("SC_IOV_MAX")  # the most buffers one system call sends

# More than a body the log shows: the cut is made on the characters, after redaction.
MAX_BODY_BYTES = 4 * request_logs.MAX_BODY_CHARACTERS
# The log's own reads are not logged: reading the log would fill it.
NOT_LOGGED = frozenset({"listRequestLogs", "retrieveRequestLog"})


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
    """The queue of entries, each packed as it is added, written in rounds on the event loop
    that answers the requests, a batch of at most BATCH at a time. Under `serve`, each batch is
    shipped to its request-log process (server/worker/request_log_process.py), which reads,
    keeps (redacts) and writes it off this loop: the loop only sends it. Elsewhere (a test
    client), or once that process is gone, the batch is written here: on SQLite a batch is a
    few milliseconds of the loop, where a thread would take the interpreter from the loop in
    slices of milliseconds; on PostgreSQL the loop goes on while it is written."""

    def __init__(self, database: Database, keep: int, process: str | None = None):
        """`process`: the socket of `serve`'s request-log process, if it has one."""
        self._database = database
        self.entries = EntryWriter(database, keep)  # what writes a batch here
        self._shipping = _Shipping(process, self._write_here) if process else None
        self._queue: deque[bytes] = deque(maxlen=MAX_QUEUED)  # of packed `Noted`s
        self._writing: asyncio.Task | None = None
        self._hurry = asyncio.Event()  # the writing task's: write now, without waiting

    def add(self, noted: tuple) -> None:
        """Queue a request as `RequestLog` notes it (a `Noted`), packed; on an event loop, have
        it written shortly (elsewhere, `write_all` writes it)."""
        self._queue.append(process.pack(noted))
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
                batch = self._next_batch()
                try:
                    if self._shipping is None or not await self._shipping.ship(batch):
                        await self._write_here(batch)
                except Exception:  # what is queued waits for the next request's round
                    log.exception("the request log could not be written")
                    return
                await asyncio.sleep(0)  # the loop's other work between batches

    async def _write_here(self, batch: list[bytes]) -> None:
        await self._database.run(functools.partial(self._write_batch, batch))

    def _write_batch(self, batch: list[bytes]) -> None:
        self.entries.write([process.entry_of(packed) for packed in batch])

    def _next_batch(self) -> list[bytes]:
        queue = self._queue
        return [queue.popleft() for _ in range(min(BATCH, len(queue)))]

    def write_all(self) -> None:
        """Write what is queued, here."""
        while self._queue:
            self._write_batch(self._next_batch())

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
        if self._shipping is not None:
            await self._shipping.close()
        await self._database.run(self.write_all)


class _Shipping:
    """Batches shipped to `serve`'s request-log process, each kept until the process answers
    that it is written. Once the connection is lost, what it did not answer is written here, and
    so is every batch after (`serve` starts no other process).

    A batch goes out as its entries' own strings, gathered by the system call that sends them
    (`sendmsg`): an asyncio stream would copy them into one string first, a megabyte of fresh
    memory each round under load."""

    def __init__(self, path: str, write_here: Callable[[list[bytes]], Awaitable[None]]):
        self._path = path
        self._write_here = write_here
        self._socket: socket.socket | None = None
        self._answers: asyncio.Task | None = None
        self._unanswered: dict[int, list[bytes]] = {}
        self._numbers = itertools.count()
        self._lost = False
        self._closing = False

    async def ship(self, batch: list[bytes]) -> bool:
        """Whether the batch went to the process (else, write it here)."""
        if self._lost:
            return False
        number = next(self._numbers)
        if self._socket is None:
            try:
                self._socket = await _connected(self._path)
            except OSError as unreachable:
                self._lose(f"cannot reach it at {self._path}: {unreachable}")
                return False
            self._answers = asyncio.create_task(self._read_answers(self._socket))
        self._unanswered[number] = batch
        try:
            await _send_all(self._socket, process.shipment(number, batch))
        except OSError:  # ends the answers' reader, which writes what is unanswered here
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        return True

    async def _read_answers(self, connection: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        answers = b""
        try:
            with contextlib.suppress(OSError):  # a connection reset ends it as its close does
                while received := await loop.sock_recv(connection, 4096):
                    answers += received
                    whole = len(answers) - len(answers) % process.ANSWER.size
                    for (number,) in process.ANSWER.iter_unpack(answers[:whole]):
                        self._unanswered.pop(number, None)
                    answers = answers[whole:]
            if not self._closing:
                self._lose("it closed the connection")
        finally:
            try:
                while self._unanswered:
                    await self._write_here(self._unanswered.pop(min(self._unanswered)))
            except Exception:
                log.exception("the request log could not be written")

    def _lose(self, why: str) -> None:
        self._lost = True
        log.error("the request-log process is gone (%s): the server writes the log itself", why)

    async def close(self) -> None:
        """Wait for the process to answer what was shipped; write here what it did not."""
        if self._socket is None:
            return
        if self._answers is not None and not self._answers.done():
            self._closing = True
            with contextlib.suppress(OSError):  # the process answers what it has, then closes
                self._socket.shutdown(socket.SHUT_WR)
            try:
                await asyncio.wait_for(asyncio.shield(self._answers), CLOSE_SECONDS)
            except TimeoutError:
                self._answers.cancel()  # what is unanswered is written here as it ends
                with contextlib.suppress(asyncio.CancelledError):
                    await self._answers
        self._socket.close()


async def _connected(path: str) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


async def _send_all(connection: socket.socket, buffers: list[bytes]) -> None:
    """Send `buffers`, in order, as one stream, copying none of them; the loop goes on while the
    process reads what it was sent before."""
    unsent: list[bytes | memoryview] = list(buffers)
    while unsent:
        try:
            sent = connection.sendmsg(unsent[:IOV_MAX])
        except BlockingIOError:
            await _until_writable(connection)
            continue
        whole = 0
        while whole < len(unsent) and sent >= len(unsent[whole]):
            sent -= len(unsent[whole])
            whole += 1
        del unsent[:whole]
        if sent:
            unsent[0] = memoryview(unsent[0])[sent:]


async def _until_writable(connection: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    writable = loop.create_future()

    def ready() -> None:
        if not writable.done():
            writable.set_result(None)

    loop.add_writer(connection, ready)
    try:
        await writable
    finally:
        loop.remove_writer(connection)


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
    """Notes a sandbox's request as the envelope (server/middleware/envelope.py) saw it pass,
    whatever answered it: no layer of its own, which would wrap every answer's messages once
    more."""

    def __init__(self, writer: RequestLogWriter, spec: dict, handlers: str):
        self.writer = writer
        self.operation_ids = _operation_ids(spec, handlers)

    def note(
        self, scope: Scope, received: list[bytes], sent: list[Message], seconds: float
    ) -> None:
        """Only what must be read here, raw: the request-log process decodes it."""
        token_info = token_info_of(scope)
        principal = token_info["principal"] if token_info else None
        if principal is None or principal.environment is not Environment.SANDBOX:
            return
        routed = scope.get("extensions", {}).get("connexion_routing", {})
        operation_id = self.operation_ids.get(routed.get("operation_id", ""))
        if operation_id in NOT_LOGGED:
            return
        status, response_headers, response_body = 500, [], []
        # The answer dropped on purpose is logged as it was.
        for message in [*sent, *scope[UNANSWERED]] if UNANSWERED in scope else sent:
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", [])
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
        self.writer.add(
            (  # a Noted, as a plain tuple (server/worker/request_log_process.py)
                request_id_of(scope) or "",
                principal.account_id,
                clock.now(),
                scope["method"],
                scope["path"],
                scope["query_string"],
                operation_id,
                int(seconds * 1_000_000),
                scope["headers"],
                _first_bytes(received) if received else b"",
                status,
                response_headers,
                _first_bytes(response_body) if response_body else b"",
            )
        )
