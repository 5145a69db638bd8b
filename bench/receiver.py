"""A webhook endpoint for the load, on 127.0.0.1: one that answers 204 to every delivery at
once and notes when each arrived, or one whose port is closed (a receiver that is down).

The answering one is an asyncio protocol on a thread of its own, reading just enough HTTP/1.1
(the head, then Content-Length bytes) to answer each request on a kept-alive connection: it
shares the machine's cores with the server measured, so it costs as little as it can (a tenth
of the standard library's threaded HTTP server, which parses every header in Python)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

ANSWERING, DOWN = "answering", "down"
ANSWER = b"HTTP/1.1 204 No Content\r\n\r\n"


class _Answering(asyncio.Protocol):
    def __init__(self, arrivals: list[float]):
        self._arrivals = arrivals
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = _content_length(bytes(self._buffer[:head_end]))
            request_end = head_end + 4 + length
            if len(self._buffer) < request_end:
                return
            del self._buffer[:request_end]
            self._arrivals.append(time.monotonic())
            assert self._transport is not None
            self._transport.write(ANSWER)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Receiver:
    def __init__(self, kind: str):
        self.kind = kind
        self.arrivals: list[float] = []  # time.monotonic() of each delivery
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if kind == ANSWERING:
            self._listener = socket.create_server(("127.0.0.1", 0))
            self.port = self._listener.getsockname()[1]
        else:
            # A port that was free a moment ago, and that nothing listens on now.
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _serve(self, started: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            loop.create_server(lambda: _Answering(self.arrivals), sock=self._listener)
        )
        started.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    def __enter__(self) -> Receiver:
        if self.kind == ANSWERING:
            self._loop = asyncio.new_event_loop()
            started = threading.Event()
            self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
            self._thread.start()
            started.wait()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
