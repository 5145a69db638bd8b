"""Connections are bounded, on the server the README runs: a request head of limited size, a
deadline for a whole request, a cap on the connections one address may hold and on all of them.
Each probe talks raw HTTP over a socket to a live server, as a slow or hostile client would."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from urllib.parse import urlsplit

import pytest

from server.core.settings import Settings
from tests.conftest import settings_from
from tests.live import LiveServer, running_server

pytestmark = pytest.mark.live

# A short deadline, so that the probes of it are quick; long enough that a probe delayed by a
# busy machine still sends in time.
TIMEOUT = 3
PER_CLIENT = 4
MAX_HEAD = Settings.model_fields["max_header_bytes"].default
# Far longer than the deadline: a probe that waits this long has found no bound.
PATIENCE = 15


@pytest.fixture(scope="module")
def bounded() -> Iterator[LiveServer]:
    env = {"TEN99_REQUEST_TIMEOUT": str(TIMEOUT), "TEN99_CONNECTIONS_PER_CLIENT": str(PER_CLIENT)}
    with running_server(env=env) as server:
        yield server


def connect(server: LiveServer, source: str = "127.0.0.1") -> socket.socket:
    url = urlsplit(server.base_url)
    sock = socket.create_connection((url.hostname, url.port), PATIENCE, (source, 0))
    return sock


def head(server: LiveServer, method: str = "GET", path: str = "contractors", **headers) -> bytes:
    lines = [f"{method} {urlsplit(server.base_url).path}/{path} HTTP/1.1", "Host: localhost"]
    lines += [f"Authorization: Bearer {server.api_key}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_to_end(sock: socket.socket) -> bytes:
    received = b""
    with closing(sock):
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # the server closed with a request unread, after answering
    return received


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The one response the server sends before it closes the connection."""
    received = read_to_end(sock)
    status_line, _, rest = received.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(line.decode().lower().split(": ", 1) for line in header_block.split(b"\r\n"))
    return int(status_line.split()[1]), headers, body


def error(sock: socket.socket, status: int, code: str) -> dict:
    got, headers, body = answer(sock)
    assert got == status, body
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    # As every answer has, though the app never saw the request.
    assert headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"req_[A-Za-z0-9]{16}", headers["request-id"])
    found = json.loads(body)
    assert found["error_code"] == code
    return found


def send_ignoring_close(sock: socket.socket, data: bytes) -> None:
    """Send as a client that does not stop to listen would; the server may hang up first."""
    with suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def test_a_head_over_the_limit_is_431(bounded):
    sock = connect(bounded)
    sock.sendall(head(bounded, X_Padding="a" * MAX_HEAD))
    found = error(sock, 431, "request_header_too_large")
    assert str(MAX_HEAD) in found["message"]


def test_a_head_just_under_the_limit_is_served(bounded):
    sock = connect(bounded)
    sock.sendall(head(bounded, X_Padding="a" * (MAX_HEAD - 200), Connection="close"))
    assert answer(sock)[0] == 200


def test_a_header_that_never_ends_is_cut_off_not_stored(bounded):
    """4 MiB of one header, never finished: refused once past the limit, not at the deadline
    (a 408 would mean the server kept reading, and storing, all of it)."""
    sock = connect(bounded)
    sock.sendall(head(bounded)[:-2] + b"X-Endless: ")
    send_ignoring_close(sock, b"a" * (4 << 20))
    error(sock, 431, "request_header_too_large")


def test_thirty_bloated_heads_at_once_leave_the_server_serving(live_server):
    """On the run's shared server, whose deadline (30 s) no sender misses however long the 30
    threads take to start (with the short one, a connection whose thread started late was
    closed unanswered)."""
    socks = [connect(live_server, f"127.0.0.{n}") for n in range(2, 32)]
    senders = [
        threading.Thread(
            target=send_ignoring_close, args=(sock, b"GET / HTTP/1.1\r\nX: " + b"a" * (8 << 20))
        )
        for sock in socks
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    for sock in socks:
        error(sock, 431, "request_header_too_large")
    served = connect(live_server)
    served.sendall(head(live_server, Connection="close"))
    assert answer(served)[0] == 200


def test_a_stalled_body_gets_408(bounded):
    sock = connect(bounded)
    body_start = b'{"first_name": '
    sock.sendall(head(bounded, "POST", Content_Type="application/json", Content_Length=100))
    sock.sendall(body_start)
    found = error(sock, 408, "request_timeout")
    assert f"{TIMEOUT} second" in found["message"]


def test_a_stalled_head_gets_408(bounded):
    sock = connect(bounded)
    sock.sendall(head(bounded)[:-2])  # the blank line that ends a head never comes
    error(sock, 408, "request_timeout")


def test_a_connection_that_never_sends_is_closed(bounded):
    sock = connect(bounded)
    with closing(sock):
        assert sock.recv(1) == b""


def test_a_client_slow_but_within_the_deadline_is_served(bounded):
    sock = connect(bounded)
    request = head(bounded, Connection="close")
    for start in range(0, len(request), 40):
        sock.sendall(request[start : start + 40])
        time.sleep(TIMEOUT / 20)
    assert answer(sock)[0] == 200


def test_pipelined_requests_and_a_large_body_are_served(bounded):
    sock = connect(bounded)
    sock.sendall(head(bounded) * 5 + head(bounded, Connection="close"))
    received = read_to_end(sock)
    assert received.count(b"HTTP/1.1 200 OK") == 6

    body = json.dumps({"custom_metadata": {"note": "x" * 900_000}}).encode()
    sock = connect(bounded)
    sock.sendall(
        head(
            bounded,
            "POST",
            Content_Type="application/json",
            Content_Length=len(body),
            Connection="close",
        )
        + body
    )
    # Read whole and validated: refused for the fields it lacks, not for its size or pace.
    status, _, refusal = answer(sock)
    assert status == 400
    assert json.loads(refusal)["error_code"] == "invalid_input"


def test_one_address_holds_at_most_its_share_of_connections(bounded):
    held = [connect(bounded) for _ in range(PER_CLIENT)]
    sock = connect(bounded)
    sock.sendall(head(bounded))
    found = error(sock, 429, "rate_limit")
    assert f"at most {PER_CLIENT}" in found["message"]
    # Another address is not affected ...
    other = connect(bounded, "127.0.0.40")
    other.sendall(head(bounded, Connection="close"))
    assert answer(other)[0] == 200
    # ... and once this one lets go, it is served again.
    for sock in held:
        sock.close()
    time.sleep(0.2)
    again = connect(bounded)
    again.sendall(head(bounded, Connection="close"))
    assert answer(again)[0] == 200


def test_the_server_holds_at_most_max_connections():
    env = {"TEN99_MAX_CONNECTIONS": "3", "TEN99_CONNECTIONS_PER_CLIENT": "off"}
    with running_server(env=env) as server:
        held = [connect(server, f"127.0.0.{n}") for n in range(2, 5)]
        sock = connect(server, "127.0.0.9")
        sock.sendall(head(server))
        status, headers, body = answer(sock)
        assert (status, json.loads(body)["error_code"]) == (503, "service_unavailable")
        assert headers["retry-after"] == "1"
        assert headers["request-id"].startswith("req_")
        assert headers["x-content-type-options"] == "nosniff"
        for sock in held:
            sock.close()


def test_malformed_http_gets_a_400_in_the_api_shape(bounded):
    sock = connect(bounded)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    error(sock, 400, "invalid_input")


def test_the_settings_are_read_and_checked():
    defaults = settings_from({})
    assert (defaults.max_header_bytes, defaults.request_timeout) == (16384, 30)
    assert (defaults.connections_per_client, defaults.max_connections) == (64, 1000)
    assert settings_from({"TEN99_CONNECTIONS_PER_CLIENT": "off"}).connections_per_client is None
    for name in ("TEN99_MAX_HEADER_BYTES", "TEN99_REQUEST_TIMEOUT", "TEN99_MAX_CONNECTIONS"):
        with pytest.raises(ValueError, match=name):
            settings_from({name: "0"})
    with pytest.raises(ValueError, match="or off"):
        settings_from({"TEN99_CONNECTIONS_PER_CLIENT": "lots"})
