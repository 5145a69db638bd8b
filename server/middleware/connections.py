"""uvicorn's httptools protocol, with the bounds it lacks: a request head of limited size, a
deadline for sending a whole request, and a cap on the connections one client address may hold.

httptools stores an unfinished header however long it grows, and uvicorn waits for a request's
head and body as long as the client keeps the connection open, so without these a few slow or
bloated connections hold the server's memory and its connections indefinitely.

A connection refused before its request was read is closed the way nginx's lingering close does
it: the answer is sent, then the server stops sending and discards what the client still sends
until it stops (or LINGER_MAX passes). Closed at once, with the client's bytes unread, the
connection would end in a reset, and a reset makes the client's system drop the answer before
the client has read it."""

from __future__ import annotations

import asyncio
import json
import logging
from functools import cache
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.core import logs
from server.core.settings import Settings
from server.middleware.errors import RequestRefused, send_refusal
from server.middleware.request_ids import assign_request_id, new_request_id

logger = logging.getLogger("server.connections")

# A scope extension: closes the request's connection at once, unanswered (middleware/faults.py).
ABORT = "ten99.abort"
LINGER_IDLE = 2.0  # seconds without a byte from a refused client, then the connection closes
LINGER_MAX = 30.0  # seconds a refused client may go on sending at most


class HeadTooLarge(Exception):
    """Raised inside the parser, which stops it before the request reaches the app."""


@cache
def _settings() -> Settings:
    # Read once per process: uvicorn creates the protocol itself, and its worker processes
    # are spawned with nothing but the environment.
    return Settings.from_env()


# Open connections per client address, in this process.
_open: dict[str, int] = {}


def _refusal_app(refused: RequestRefused):
    """An ASGI app that answers every request of a connection with `refused`, then closes it:
    in place of the app, so with the headers the request envelope gives every answer."""
    refused.headers["Connection"] = "close"
    refused.headers["X-Content-Type-Options"] = "nosniff"

    async def refuse(scope, receive, send) -> None:
        request_id = assign_request_id(scope)
        client = scope["client"][0] if scope.get("client") else None
        _log_answer(client, refused.status, refused.message, request_id)
        headers = {**refused.headers, "request-id": request_id}
        answer = RequestRefused(refused.status, refused.code, refused.message, headers=headers)
        await send_refusal(send, answer)

    return refuse


def _log_answer(address: str | None, status: int, message: str, request_id: str) -> None:
    """A line for an answer the connection layer gave, with the id the client was told."""
    logs.bind(request_id=request_id)
    try:
        logger.info("%s: %s", address, message, extra={"status": status})
    finally:
        logs.unbind()


class _Coalescing:
    """A connection's transport that sends what one step of the event loop wrote in one system
    call: uvicorn writes a response's head and its body apart, two sends (two packets, with
    TCP_NODELAY) where one does. What is written goes out at the end of the loop's step, or at
    once before the connection is closed or half-closed."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():  # else the client is gone, and the answer too
                self._transport.write(data)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = _settings()
        self.max_head_bytes = settings.max_header_bytes
        self.request_timeout = settings.request_timeout
        self.per_client = settings.connections_per_client
        self.max_connections = settings.max_connections
        self.address: str | None = None
        self.in_head = False  # between a request's first byte and the end of its headers
        self.head_bytes = 0  # the bytes of that head received in earlier chunks
        self.reading = False  # between a request's first byte and its last
        self.deadline: asyncio.TimerHandle | None = None
        self.lingering: asyncio.TimerHandle | None = None  # answered: what arrives is dropped
        self.linger_ends = 0.0

    def connection_made(self, transport) -> None:
        # A transport in all but its class: what it does not define, the real one does.
        super().connection_made(cast(asyncio.Transport, _Coalescing(transport, self.loop)))
        self.address = self.client[0] if self.client else None  # None on a Unix socket
        if self.address is not None:
            held = _open[self.address] = _open.get(self.address, 0) + 1
            if self.per_client is not None and held > self.per_client:
                self.app = _refusal_app(
                    RequestRefused(
                        429,
                        "rate_limit",
                        f"Too many connections from {self.address}: at most {self.per_client} "
                        "may be open at once.",
                        headers={"Retry-After": "1"},
                    )
                )
        if len(self.connections) > self.max_connections:
            self.app = _refusal_app(
                RequestRefused(
                    503,
                    "service_unavailable",
                    "The server holds as many connections as it may; retry shortly.",
                    headers={"Retry-After": "1"},
                )
            )
        # The first request, like every other, must arrive in time.
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        if self.lingering is not None:
            self.lingering.cancel()
        if self.address is not None:
            held = _open.pop(self.address) - 1
            if held:
                _open[self.address] = held
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.lingering is not None:
            self._linger()
            return
        # uvicorn's own, but for a head refused as too large, and with the bounds kept.
        self._unset_keepalive_if_required()
        continues_head = self.in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no upgrade is served (see cli.serve)
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, HeadTooLarge):
                self._refuse_head()
            else:
                self._answer(400, "invalid_input", "The request is not valid HTTP/1.1.")
            return
        if self.in_head and continues_head:
            # Every byte of this chunk belongs to one unfinished head: count it, so that a
            # header that never ends is cut off after a bounded amount of memory.
            self.head_bytes += len(data)
            if self.head_bytes > self.max_head_bytes:
                self._refuse_head()
                return
        if self.reading and self.deadline is None:
            self._arm()

    def on_message_begin(self) -> None:
        self.in_head, self.head_bytes, self.reading = True, 0, True
        super().on_message_begin()
        extensions: dict[str, Any] = {ABORT: self.transport.abort}
        self.scope["extensions"] = extensions

    def on_headers_complete(self) -> None:
        self.in_head = False
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        if size > self.max_head_bytes:
            raise HeadTooLarge
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.reading = False
        self._disarm()
        super().on_message_complete()

    def _arm(self) -> None:
        self.deadline = self.loop.call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _timed_out(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:
            # The server, not the client, stopped reading (a pipelined request waits for the
            # one before it, or the app has yet to take the body): the client is not late.
            self._arm()
            return
        answered = self.cycle is not None and self.cycle.response_started
        unanswered = self.in_head or (self.reading and not answered)
        if unanswered:
            self._answer(
                408,
                "request_timeout",
                f"The request was not received within {self.request_timeout} seconds.",
            )
        else:
            # Idle before its first request, or still sending a body already answered.
            self.transport.close()

    def _refuse_head(self) -> None:
        self._answer(
            431,
            "request_header_too_large",
            f"The request line and headers must not be larger than {self.max_head_bytes} bytes.",
        )

    def _answer(self, status: int, code: str, message: str) -> None:
        """Answer straight on the transport, as the app was never reached, and close."""
        self._disarm()
        request_id = new_request_id()
        _log_answer(self.address, status, message, request_id)
        body = json.dumps({"error_code": code, "message": message}).encode()
        head = [STATUS_LINE[status]]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-content-type-options: nosniff\r\n",
            b"request-id: %s\r\n" % request_id.encode(),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.write_eof()
        self.transport.resume_reading()  # whatever paused it, what arrives now is dropped
        self.linger_ends = self.loop.time() + LINGER_MAX
        self._linger()

    def _linger(self) -> None:
        """Wait LINGER_IDLE more for the client to stop sending (but not past LINGER_MAX)."""
        if self.lingering is not None:
            self.lingering.cancel()
        wait = min(LINGER_IDLE, max(self.linger_ends - self.loop.time(), 0))
        self.lingering = self.loop.call_later(wait, self.transport.close)
