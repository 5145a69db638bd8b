"""Writing the sandboxes' request logs: the entries server/middleware/request_log.py notes.

A server process queues each request it answers and, ten times a second, hands on what it
queued. Under `serve` it hands it to the worker process beside it, through a Unix socket: the
redaction, the encoding and the writing then take none of the time of the process that answers
requests, which spends a few microseconds a request on the log. Without that worker process
(`TEN99_WORKER=off`, or an app made in a test), or if it is gone, the server process writes
them itself, on its event loop. If writing falls behind, the queue keeps its newest MAX_QUEUED.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import orjson

from server.core.principals import Environment, Principal
from server.domain import request_logs
from server.domain.request_logs import Entry
from server.store import request_logs as store
from server.store.db import Database

log = logging.getLogger("server.request_log")

FLUSH_SECONDS = 0.1
BATCH = 1000  # entries handed on at once
PRUNE_SECONDS = 60  # how often a sandbox's log is cut back to its bound
MAX_QUEUED = 20_000
RECONNECT_SECONDS = 5  # after the worker process could not be reached
# Where `serve`'s worker process reads the server processes' entries, set by `serve`.
SOCKET_PATH = "TEN99_REQUEST_LOG_SOCKET"
_LENGTHS = struct.Struct("!II")  # of a batch's two parts, before it in the socket


class RequestLogWriting:
    """Entries written to the database, each sandbox's of a batch as one row; each sandbox's
    log cut back to its latest `keep` requests every PRUNE_SECONDS."""

    def __init__(self, database: Database, keep: int):
        self.database = database
        self._keep = keep
        self._pruned: dict[Principal, float] = {}

    def write(self, entries: Sequence[Entry]) -> None:
        logged: dict[Principal, list[dict]] = {}
        for entry in entries:
            logged.setdefault(entry.principal, []).append(request_logs.kept(entry))
        if not logged:
            return
        now = time.monotonic()
        due = [p for p in logged if now - self._pruned.get(p, 0.0) > PRUNE_SECONDS]
        rows = store.batches_of(logged)
        with self.database.server_work() as work:
            work.log_requests(rows)
            if due:
                work.prune_request_logs(due, self._keep)
        for principal in due:
            self._pruned[principal] = now


# An entry's fields but its sandbox and bodies: sent through the socket as JSON, the bodies after
# them as they are (bytes, which JSON cannot hold).
_SENT_AS_JSON = tuple(
    name for name in Entry._fields if name not in {"principal", "request_body", "response_body"}
)
_sent_as_json = operator.attrgetter(*_SENT_AS_JSON)


def _frame(entries: Sequence[Entry]) -> bytes:
    """A batch as sent through the socket: the lengths of its two parts, then each entry's
    sandbox, body lengths and fields as JSON, then the bodies."""
    head = orjson.dumps(
        [
            (
                entry.principal.account_id,
                entry.principal.environment.value,
                len(entry.request_body),
                len(entry.response_body),
                *_sent_as_json(entry),
            )
            for entry in entries
        ]
    )
    tail = b"".join(body for entry in entries for body in (entry.request_body, entry.response_body))
    return _LENGTHS.pack(len(head), len(tail)) + head + tail


def _entries(head: bytes, tail: bytes) -> list[Entry]:
    entries, at = [], 0
    principals: dict[tuple[str, str], Principal] = {}
    for account_id, environment, request_length, response_length, *fields in orjson.loads(head):
        principal = principals.get((account_id, environment))
        if principal is None:
            principal = principals[account_id, environment] = Principal(
                account_id, Environment(environment)
            )
        request_body = tail[at : at + request_length]
        response_body = tail[at + request_length : at + request_length + response_length]
        at += request_length + response_length
        entries.append(
            Entry(
                principal=principal,
                request_body=request_body,
                response_body=response_body,
                **dict(zip(_SENT_AS_JSON, fields, strict=True)),
            )
        )
    return entries


class RequestLogQueue:
    """A server process's entries, handed on in batches from its event loop: to the worker
    process listening at `socket_path` if there is one, else written with `writing`."""

    def __init__(self, writing: RequestLogWriting, socket_path: str | None = None):
        self._writing = writing
        self._socket_path = socket_path or os.environ.get(SOCKET_PATH) or None
        self._queue: deque[Entry] = deque(maxlen=MAX_QUEUED)
        self._task: asyncio.Task | None = None
        self._connection: asyncio.StreamWriter | None = None
        self._unreachable_until = 0.0

    def add(self, entry: Entry) -> None:
        """Queue the entry; on an event loop, have it handed on shortly (elsewhere, `write_all`
        writes it)."""
        self._queue.append(entry)
        task = self._task
        if task is not None and not task.done() and task.get_loop().is_running():
            return  # it hands this entry on too
        # Only then: on Python 3.11 asking for the running loop costs a system call.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self._hand_on_soon())

    async def _hand_on_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            try:
                if not await self._sent(batch):
                    await self._writing.database.run(functools.partial(self._writing.write, batch))
            except Exception:  # the next round tries again with what comes next
                log.exception("the request log could not be written (%d requests)", len(batch))
                return
            await asyncio.sleep(0)  # the loop's other work between batches

    async def _sent(self, batch: list[Entry]) -> bool:
        """Whether the batch went to the worker process."""
        if self._socket_path is None or time.monotonic() < self._unreachable_until:
            return False
        try:
            if self._connection is None:
                _, self._connection = await asyncio.open_unix_connection(self._socket_path)
            self._connection.write(_frame(batch))
            await self._connection.drain()
            return True
        except OSError as error:
            log.warning("the worker process's request log is unreachable (%s): written here", error)
            self._connection = None
            self._unreachable_until = time.monotonic() + RECONNECT_SECONDS
            return False

    def write_all(self) -> None:
        """Write what is queued, here and now."""
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            self._writing.write(batch)

    async def close(self) -> None:
        """Hand on all that is queued (at shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._queue and not await self._sent(list(self._queue)):
            await self._writing.database.run(self.write_all)
        self._queue.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def listen(path: Path) -> socket.socket:
    """The socket `serve` makes before its processes start: the worker process reads from it,
    the server processes connect to it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    return listener


class Receiver:
    """In the worker process: each server process's batches, written as they come by a thread
    of its own. Once asked to stop, it takes no new connection, and writes what the server
    processes still send until each has closed its connection (they do as they stop) or the
    grace has passed."""

    ACCEPT_WAIT_SECONDS = 0.2  # how soon the listening thread sees it is asked to stop

    def __init__(self, listener: socket.socket, writing: RequestLogWriting):
        self._listener = listener
        self._writing = writing
        self._stopping = threading.Event()
        self._readers: list[threading.Thread] = []
        self._listening = threading.Thread(
            target=self._accept, name="ten99-request-log", daemon=True
        )

    def start(self) -> None:
        self._listening.start()

    def stop(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        self._stopping.set()
        self._listening.join()
        for reader in self._readers:
            reader.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(reader.is_alive() for reader in self._readers):
            log.warning("a server process was still sending its request log at the stop")

    def _accept(self) -> None:
        self._listener.settimeout(self.ACCEPT_WAIT_SECONDS)
        with self._listener:
            while not self._stopping.is_set():
                try:
                    connection, _ = self._listener.accept()
                except TimeoutError:
                    continue
                connection.settimeout(None)
                reader = threading.Thread(
                    target=self._read, args=(connection,), name="ten99-request-log", daemon=True
                )
                self._readers.append(reader)
                reader.start()

    def _read(self, connection: socket.socket) -> None:
        """Write each batch the connection brings, until it ends."""
        with connection, connection.makefile("rb") as stream:
            while len(lengths := stream.read(_LENGTHS.size)) == _LENGTHS.size:
                head_length, tail_length = _LENGTHS.unpack(lengths)
                head, tail = stream.read(head_length), stream.read(tail_length)
                if len(tail) < tail_length:
                    log.warning("a server process's request log ended in the middle of a batch")
                    return
                try:
                    self._writing.write(_entries(head, tail))
                except Exception:  # a batch refused must not end the log
                    log.exception("the request log could not be written")
