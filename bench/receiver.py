"""A webhook endpoint for the load, on 127.0.0.1: one that answers 204 to every delivery at
once and notes when each arrived, or one whose port is closed (a receiver that is down)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

ANSWERING, DOWN = "answering", "down"


class Receiver:
    def __init__(self, kind: str):
        self.kind = kind
        self.arrivals: list[float] = []  # time.monotonic() of each delivery
        self._server: ThreadingHTTPServer | None = None
        if kind == ANSWERING:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
            self._server.daemon_threads = True
            self.port = self._server.server_address[1]
        else:
            # A port that was free a moment ago, and that nothing listens on now.
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the sender's connection open

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.append(time.monotonic())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        if self._server is not None:
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
