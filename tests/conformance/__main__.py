"""`python -m tests.conformance`: the conformance run.

Starts the real server under uvicorn on 127.0.0.1 with a fresh database, fuzzes it with
Schemathesis (every check, every phase, a fixed seed, JUnit and HAR reports), then runs the
coverage gate over what was observed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests.conformance import gate
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REPORTS = ROOT / "reports" / "conformance"
PHASES = "examples,coverage,fuzzing,stateful"


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
    server_log = args.reports / "server.log"
    with live_server(server_log, args.database_url) as server:
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{server.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {server.api_key}",
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

    print(f"\nJUnit report: {junit}\nserver log: {server_log}\n")
    gate_status = gate.main([str(har)])
    return 1 if fuzz.returncode or gate_status else 0


if __name__ == "__main__":
    sys.exit(main())
