"""The real server in a subprocess under uvicorn, for the conformance run, the generated
clients' runs, and the tests that need real concurrency (many connections, several workers)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from server.core.principals import Environment
from server.domain import keys
from server.store.db import Database

# Seconds a server has to exit after SIGTERM before the harness kills it. A server may take
# longer (its worker finishing a long task); the run does not fail for it.
STOP_GRACE = 10


class ServerKilled(UserWarning):
    """A server started by the tests did not exit within its grace and was killed."""


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # ends in /api/v1
    api_key: str
    database_url: str
    pid: int = 0  # of `serve`, which leads a process group of its own (its worker process too)
    process: subprocess.Popen | None = field(default=None, compare=False, repr=False)

    def new_key(self, environment: Environment = Environment.SANDBOX) -> str:
        """A key of a new account of its own, so that tests sharing this server never see each
        other's objects (nor each other's test clocks)."""
        database = Database(self.database_url)
        try:
            with database.server_work() as work:
                account = f"acct_{secrets.token_hex(6)}"
                return keys.create_key(work.keys, environment, account)
        finally:
            database.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(
    url: str, server: subprocess.Popen, timeout: float = 60, log: Path | None = None
) -> None:
    """Until `url` answers; RuntimeError if the server exits first or `timeout` passes, with the
    last lines of its `log`, which say why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise _not_up(f"the server exited with {server.returncode} before it came up", log)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise _not_up(f"the server did not answer {url} within {timeout:.0f}s", log)


def _not_up(why: str, log: Path | None, lines: int = 40) -> RuntimeError:
    if log is None:
        return RuntimeError(why)
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return RuntimeError(f"{why}; its log ends:\n" + "\n".join(tail))


def stop(process: subprocess.Popen, name: str, grace: float = STOP_GRACE) -> None:
    """SIGTERM, then SIGKILL once `grace` is over: a process the tests started always ends,
    and one that had to be killed is reported (a warning), never a failure of the run."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        warnings.warn(
            f"{name} (pid {process.pid}) did not exit within {grace:.0f}s of SIGTERM: killed",
            ServerKilled,
            stacklevel=2,
        )


@contextmanager
def running_server(
    *,
    database_url: str | None = None,
    workers: int = 1,
    env: dict[str, str | None] | None = None,
    log_path: Path | None = None,
    host: str = "127.0.0.1",
) -> Iterator[LiveServer]:
    """`ten99-server serve` on a free port, with a fresh sandbox key; a fresh SQLite file
    unless `database_url` names another database.

    Its webhook deliveries to hosts elsewhere go to a proxy that is not there (`OFFLINE`), so
    that none leaves this machine; receivers on 127.0.0.1 are reached directly. A variable of
    `env` set to None is left out of the server's environment. It listens on `host`, and is
    reached on 127.0.0.1."""
    api_key = "t9k_test_" + secrets.token_urlsafe(16)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api/v1"
    with tempfile.TemporaryDirectory(prefix="ten99-live-") as tmp:
        database_url = database_url or f"sqlite:///{tmp}/live.db"
        server_env = {
            **os.environ,
            "TEN99_DATABASE_URL": database_url,
            "TEN99_API_KEY": api_key,
            "TEN99_VALIDATE_RESPONSES": "true",
            "TEN99_LOG_LEVEL": "warning",
            # The run's servers share this machine's PostgreSQL (100 connections) with the other
            # envs' servers and tests: at 48 a process, two workers in a burst took 52.
            "TEN99_DATABASE_CONNECTIONS": "8",
            **OFFLINE,
            **(env or {}),
        }
        server_env = {name: value for name, value in server_env.items() if value is not None}
        log_path = log_path or Path(tmp) / "server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            command = [sys.executable, "-m", "server", "serve", "--host", host]
            command += ["--port", str(port), "--workers", str(workers)]
            server = subprocess.Popen(
                command,
                cwd=tmp,
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log=log_path)
                yield LiveServer(base_url, api_key, database_url, server.pid, server)
            finally:
                stop(server, f"the server on port {port}")


# httpx (the deliveries' client) sends every request to a host elsewhere through this proxy,
# which nothing listens on: the attempt fails at once, on this machine.
OFFLINE = {
    "ALL_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost,::1",
}


def eventually(read, ready, timeout: float = 15):
    """`read()` again and again until `ready` of it holds, as background work completes."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if ready(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready within {timeout:.0f}s: {found!r}")
        time.sleep(0.05)
