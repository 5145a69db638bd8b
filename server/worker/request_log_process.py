"""Writing the request log (server/middleware/request_log.py notes its entries): a batch of
entries kept as the log shows them (redacted, cut) and written, by a server process itself or
by the process `serve` starts to write them off its server processes' event loops.

A server process ships each round's entries to that process over a Unix socket in a folder of
`serve`'s own, each packed as marshal data (plain values: loading them runs no code), and the
process answers each batch with its number once it is committed. What a server process shipped
and was not answered when the connection ended, it writes itself: an entry may then be logged
twice, never lost."""

from __future__ import annotations

import itertools
import logging
import marshal
import os
import signal
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from server.core.faults import HEADER as FAULT_HEADER
from server.core.idempotency import KEY_ALIAS, KEY_HEADER, REPLAYED_HEADER
from server.core.principals import Environment, Principal
from server.domain import request_logs
from server.domain.request_logs import Entry
from server.store import request_logs as store
from server.store.db import Database

log = logging.getLogger("server.request_log")

# The environment variable naming the socket, for the server processes `serve` starts.
SOCKET = "TEN99_REQUEST_LOG_SOCKET"
PRUNE_SECONDS = 60  # how often a sandbox's log is cut back to its bound
# A batch's number and how many entries it holds; then each entry's size; then the entries.
SHIPMENT = struct.Struct("!QI")
ANSWER = struct.Struct("!Q")  # the number of a batch written
MAX_SHIPMENT_ENTRIES = 100_000  # past these, a shipment is not one of ours
MAX_SHIPMENT_BYTES = 256 * 1024 * 1024
# Marshal's format 2: without the back-references of 3 and 4 (which look up every object packed
# in a table), packing a request takes half the time; a request's values share nothing to save.
MARSHAL_VERSION = 2
_KEY, _KEY_ALIAS = KEY_HEADER.lower().encode(), KEY_ALIAS.lower().encode()
_FAULT = FAULT_HEADER.lower().encode()
_REPLAYED = REPLAYED_HEADER.lower().encode()


class EntryWriter:
    """Writes batches of entries, and cuts back the logs that are due."""

    def __init__(self, database: Database, keep: int):
        self._database = database
        self._keep = keep
        self._pruned: dict[Principal, float] = {}

    def write(self, entries: Iterable[Entry]) -> None:
        logged: dict[Principal, list[dict]] = {}
        for entry in entries:
            logged.setdefault(entry.principal, []).append(request_logs.kept(entry))
        if not logged:
            return
        now = time.monotonic()
        due = [p for p in logged if now - self._pruned.get(p, 0.0) > PRUNE_SECONDS]
        rows = store.batches_of(logged)  # before the transaction: the writers' lock waits less
        with self._database.server_work() as work:
            work.log_requests(rows)
            if due:
                work.prune_request_logs(due, self._keep)
        for principal in due:
            self._pruned[principal] = now


class Noted(NamedTuple):
    """A request as the envelope noted it, raw (the ASGI scope's and messages' own values). It
    waits and travels packed (`pack`), and `entry_of` reads it, off the event loop."""

    request_id: str
    account_id: str  # of a sandbox: only sandboxes keep a log
    created: int
    method: str
    path: str
    query: bytes
    operation_id: str | None
    duration_us: int
    request_headers: list[tuple[bytes, bytes]]  # lowercase names, as ASGI's
    request_body: bytes
    status: int
    response_headers: list[tuple[bytes, bytes]]
    response_body: bytes


def pack(noted: Noted | tuple) -> bytes:
    """A `Noted` as marshal data, as soon as it is noted: what waits for the next round is then
    one string, not the request's headers and bodies, for the collector to scan again and again
    meanwhile (that cost the server 3% of its rate). Loading it runs no code."""
    try:
        return marshal.dumps(tuple(noted), MARSHAL_VERSION)
    except ValueError:  # headers of a type of an ASGI app's own: as the bytes they stand for
        n = Noted._make(noted)
        return marshal.dumps(
            tuple(
                n._replace(
                    request_headers=_plain(n.request_headers),
                    response_headers=_plain(n.response_headers),
                )
            ),
            MARSHAL_VERSION,
        )


def _plain(headers: Iterable) -> list[tuple[bytes, bytes]]:
    return [(bytes(name), bytes(value)) for name, value in headers]


def entry_of(packed: bytes | memoryview) -> Entry:
    n = Noted._make(marshal.loads(packed))
    sent, answered = dict(n.request_headers), dict(n.response_headers)
    return Entry(
        n.request_id,
        Principal(n.account_id, Environment.SANDBOX),
        n.created,
        n.method,
        f"{n.path}?{n.query.decode('latin-1')}" if n.query else n.path,
        n.operation_id,
        n.status,
        n.duration_us,
        _text(sent.get(_KEY) or sent.get(_KEY_ALIAS), 255) or None,
        answered.get(_REPLAYED) == b"true",
        _text(sent.get(_FAULT), 40) or None,
        _text(sent.get(b"content-type")),
        n.request_body,
        _text(answered.get(b"content-type")),
        n.response_body,
    )


def _text(header: bytes | None, longest: int | None = None) -> str:
    return header[:longest].decode("latin-1") if header else ""


def shipment(number: int, batch: list[bytes]) -> list[bytes]:
    """A batch of packed `Noted`s as the buffers sent to the process, the entries as they are:
    copied into one string, a round's batch (a megabyte under a list's load) would fill fresh
    pages of memory each round, six page faults a request."""
    sizes = _sizes(len(batch)).pack(*map(len, batch))
    return [SHIPMENT.pack(number, len(batch)), sizes, *batch]


def _sizes(count: int) -> struct.Struct:
    """The sizes of a shipment's `count` entries, after its header."""
    return struct.Struct(f"!{count}I")


class _Shipments(socketserver.StreamRequestHandler):
    """One server process's connection: each batch written, then answered with its number."""

    server: LogServer

    def handle(self) -> None:
        while header := self.rfile.read(SHIPMENT.size):
            received = self._batch(header)
            if received is None:
                log.error("a shipment of the request log was cut off; closing its connection")
                return
            number, batch = received
            try:
                entries = [entry_of(packed) for packed in batch]
                with self.server.writing:
                    self.server.writer.write(entries)
            except Exception:  # unanswered, the server process writes the batch itself
                log.exception("the request log could not be written; closing the connection")
                return
            self.wfile.write(ANSWER.pack(number))

    def _batch(self, header: bytes) -> tuple[int, list[memoryview]] | None:
        """The number and the packed entries of the shipment that starts with `header`; None
        if it is cut off, or not one of ours."""
        if len(header) != SHIPMENT.size:
            return None
        number, count = SHIPMENT.unpack(header)
        if count > MAX_SHIPMENT_ENTRIES:
            return None
        sizes_of = _sizes(count)
        listed = self.rfile.read(sizes_of.size)
        if len(listed) != sizes_of.size:
            return None
        sizes = sizes_of.unpack(listed)
        total = sum(sizes)
        data = memoryview(self.rfile.read(total)) if total <= MAX_SHIPMENT_BYTES else None
        if data is None or len(data) != total:
            return None
        ends = itertools.accumulate(sizes)
        return number, [data[end - size : end] for size, end in zip(sizes, ends, strict=True)]


class LogServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves the server processes' connections on `listener`, a thread each."""

    daemon_threads = False  # at the end, each connection's last batch is written and answered
    block_on_close = True

    def __init__(self, listener: socket.socket, writer: EntryWriter):
        super().__init__(listener.getsockname(), _Shipments, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.writer = writer
        self.writing = threading.Lock()  # one batch at a time: the writer keeps what it pruned


def listen(path: str) -> socket.socket:
    """The socket the process serves, made before the server processes start: they find it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    return listener


def serve(listener: socket.socket, database: Database, keep: int, parent: int) -> None:
    """Write what the server processes ship until SIGTERM, or until the process `parent` is
    gone; then write what the open connections still send (their processes have ended by
    then: `serve` stops this process last) and return."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops `serve`, which stops this last
    server = LogServer(listener, EntryWriter(database, keep))
    accepting = threading.Thread(target=server.serve_forever, name="ten99-request-log")
    accepting.start()
    while not stopping.wait(1.0) and os.getppid() == parent:
        pass
    server.shutdown()
    accepting.join()
    # With `serve` gone, its server processes may be too, or not: nothing to wait for.
    server.block_on_close = stopping.is_set()
    server.server_close()  # waits for the connections' threads
