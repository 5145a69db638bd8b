"""The real server in a subprocess under uvicorn, for the conformance run, the generated
clients' runs, and the tests that need real concurrency (many connections, several workers)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # ends in /api/v1
    api_key: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode} before it came up")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f}s")


@contextmanager
def running_server(
    *,
    database_url: str | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[LiveServer]:
    """`ten99-server serve` on a free port, with a fresh sandbox key; a fresh SQLite file
    unless `database_url` names another database."""
    api_key = "t9k_test_" + secrets.token_urlsafe(16)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api/v1"
    with tempfile.TemporaryDirectory(prefix="ten99-live-") as tmp:
        server_env = {
            **os.environ,
            "TEN99_DATABASE_URL": database_url or f"sqlite:///{tmp}/live.db",
            "TEN99_API_KEY": api_key,
            "TEN99_VALIDATE_RESPONSES": "true",
            "TEN99_LOG_LEVEL": "warning",
            **(env or {}),
        }
        log_path = log_path or Path(tmp) / "server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            command = [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--workers", str(workers)]
            server = subprocess.Popen(
                command, cwd=tmp, env=server_env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                wait_until_up(f"{base_url}/openapi.json", server)
                yield LiveServer(base_url=base_url, api_key=api_key)
            finally:
                server.terminate()
                server.wait(timeout=30)


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
