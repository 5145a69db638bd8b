"""`python -m tests.conformance`: the conformance run.

Starts the real server under uvicorn on 127.0.0.1 with a fresh database, fuzzes it with
Schemathesis (every check, every phase, a fixed seed, JUnit and HAR reports), then runs the
coverage gate over what was observed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.conformance import gate

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REPORTS = ROOT / "reports" / "conformance"
PHASES = "examples,coverage,fuzzing,stateful"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    args = parser.parse_args(argv)

    operations = gate.implemented_operations()
    args.reports.mkdir(parents=True, exist_ok=True)
    har = args.reports / "schemathesis.har"
    junit = args.reports / "junit.xml"
    key = "t9k_test_" + secrets.token_urlsafe(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"

    with tempfile.TemporaryDirectory(prefix="ten99-conformance-") as tmp:
        env = {
            **os.environ,
            "TEN99_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/conformance.db",
            "TEN99_API_KEY": key,
            "TEN99_VALIDATE_RESPONSES": "true",
            "TEN99_LOG_LEVEL": "warning",
        }
        server_log = args.reports / "server.log"
        with server_log.open("w") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=tmp,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_up(f"{base}/openapi.json", server)
                command = [
                    sys.executable,
                    "-m",
                    "schemathesis.cli",
                    "run",
                    f"{base}/openapi.json",
                    "--header",
                    f"Authorization: Bearer {key}",
                    "--checks",
                    "all",
                    "--phases",
                    PHASES,
                    "--seed",
                    str(args.seed),
                    "--max-examples",
                    str(args.max_examples),
                    "--workers",
                    "1",
                    "--report",
                    "junit,har",
                    "--report-junit-path",
                    str(junit),
                    "--report-har-path",
                    str(har),
                ]
                for op in operations:
                    command += ["--include-operation-id", op.operation_id]
                fuzz = subprocess.run(command, cwd=ROOT, check=False)
            finally:
                server.terminate()
                server.wait(timeout=30)

    print(f"\nJUnit report: {junit}\nserver log: {server_log}\n")
    gate_status = gate.main([str(har)])
    return 1 if fuzz.returncode or gate_status else 0


if __name__ == "__main__":
    sys.exit(main())
