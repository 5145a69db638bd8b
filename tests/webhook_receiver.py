"""A webhook endpoint for the tests: a real HTTP server on 127.0.0.1 that verifies every
delivery's signature exactly as the spec's Webhook Endpoints tag says, records every POST, and
can be told to fail its next requests or to hold them unanswered."""

from __future__ import annotations

import hashlib
import hmac
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60  # seconds between the signature's `t` and the receiver's clock
HOLD_POLL = 0.05  # how often a held request looks whether its sender gave it up


def by_object(events: Iterable[dict]) -> dict[str, list[str]]:
    """The events' ids grouped by the object each is about, in the order given."""
    grouped: dict[str, list[str]] = {}
    for event in events:
        grouped.setdefault(event["data"]["object"]["id"], []).append(event["id"])
    return grouped


def verify(secret: str, header: str | None, body: bytes, at: float) -> bool:
    """The spec's recipe: split the header on `,` into `t` and the `v1` entries; HMAC-SHA256 of
    `<t>.<raw body>` keyed with the whole `whsec_...` secret (UTF-8); compare the lowercase hex
    digest with each `v1` in constant time; reject a `t` more than five minutes from the clock."""
    if not header:
        return False
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    t = next((value for name, value in fields if name == "t"), "")
    if not t.isdigit() or abs(at - int(t)) > TOLERANCE:
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for name, value in fields if name == "v1")


@dataclass(frozen=True)
class Receipt:
    """One POST as it arrived, and what the receiver answered."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int  # the status the receiver answered (a sender that timed out never saw it)

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Answers 2xx to a verified delivery, 400 to a bad signature, `fail_status` while
    `failures_left` lasts; while held, requests wait (up to `hold_limit` seconds) for release."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.secret: str | None = None
        self.clock = clock
        self.failures_left = 0
        self.fail_status = 500
        self.delay = 0.0  # seconds to wait before answering each request
        self.hold_limit = 10.0
        self.receipts: list[Receipt] = []
        self.in_flight = 0  # requests held now whose sender still waits for the answer
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self.arrived = threading.Event()  # set by the first request to arrive
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    @property
    def delivered(self) -> list[dict]:
        """The events received and answered 2xx, in the order they arrived."""
        with self._lock:
            return [r.event for r in self.receipts if 200 <= r.answered < 300]

    @property
    def rejected(self) -> list[Receipt]:
        """The requests whose signature did not verify."""
        with self._lock:
            return [r for r in self.receipts if not r.verified]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
        """Poll `condition` until it holds, failing after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
            time.sleep(0.05)

    def _answer(self, headers: dict[str, str], body: bytes, sender_gone: Callable[[], bool]) -> int:
        with self._lock:
            self.in_flight += 1
        counted = True
        self.arrived.set()
        try:
            deadline = time.monotonic() + self.hold_limit
            while not self._released.wait(min(HOLD_POLL, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    break
                if counted and sender_gone():  # it gave the attempt up: no longer in flight
                    with self._lock:
                        self.in_flight -= 1
                    counted = False
            if self.delay:
                time.sleep(self.delay)
            secret = self.secret
            verified = secret is not None and verify(
                secret, headers.get("ten99policy-signature"), body, self.clock()
            )
            with self._lock:
                if not verified:
                    status = 400
                elif self.failures_left > 0:
                    self.failures_left -= 1
                    status = self.fail_status
                else:
                    status = 200
                self.receipts.append(Receipt(headers, body, verified, status))
            return status
        finally:
            if counted:
                with self._lock:
                    self.in_flight -= 1

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver._answer(headers, body, self._sender_gone)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender gave up waiting (a timeout test)
                pass

        def _sender_gone(self) -> bool:
            """Whether the sender closed the connection (it gave the request up)."""
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        def log_message(self, *_args) -> None:
            pass

    return Handler
