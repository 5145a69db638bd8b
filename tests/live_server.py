"""A real server for tests that speak HTTP to it: `python -m server serve` under uvicorn on a
free port of 127.0.0.1, with a fresh SQLite file (unless told a database) and a sandbox API key.
The conformance run and the generated clients' runs both use it."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # with the /api/v1 base path, no trailing slash
    api_key: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before it came up")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer {url} within {timeout:.0f}s")


@contextlib.contextmanager
def live_server(log_path: Path, database_url: str | None = None) -> Iterator[LiveServer]:
    """Start the server, yield where it listens and its key, stop it on the way out."""
    key = "t9k_test_" + secrets.token_urlsafe(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ten99-server-") as tmp, log_path.open("w") as log:
        env = {
            **os.environ,
            "TEN99_DATABASE_URL": database_url or f"sqlite:///{tmp}/server.db",
            "TEN99_API_KEY": key,
            "TEN99_VALIDATE_RESPONSES": "true",
            "TEN99_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1"]
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(f"{base}/openapi.json", server)
            yield LiveServer(base_url=base, api_key=key)
        finally:
            server.terminate()
            server.wait(timeout=30)
