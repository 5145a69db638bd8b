"""`python -m tests.conformance`: the conformance run.

Starts the real server under uvicorn on 127.0.0.1 with a fresh database (SQLite, or
PostgreSQL with --database postgresql), makes the documents' examples there
(`ten99-server examples`), fuzzes it with Schemathesis with the documents' key (every check,
every phase, a fixed seed, JUnit and HAR reports), then runs the coverage gate over what was
observed. Given several databases, the runs go side by side, each in a process of its own, and
their output is shown in turn.

Nothing leaves this machine: the fuzzer registers webhook endpoints at hosts it makes up, so
the server resolves no name (TEN99_WEBHOOK_TARGETS=allow) and sends every delivery to a proxy
that is not there (tests/live.py's OFFLINE), where it fails at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from server.sandbox import examples
from tests import postgres
from tests.conformance import gate
from tests.live import OFFLINE, LiveServer, running_server

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REPORTS = ROOT / "reports" / "conformance"
PHASES = "examples,coverage,fuzzing,stateful"
DATABASES = ("sqlite", "postgresql")
CONFIG = Path(__file__).with_name("schemathesis.toml")
# The fuzzing phase's examples per operation, where fewer than schemathesis.toml's 100: every
# rule and every input check runs before the database, and SQLite's run fuzzes them in full;
# PostgreSQL's proves its statements with every other phase in full and a quarter of the
# fuzzing (a quarter of the time).
FUZZING_EXAMPLES = {"postgresql": 25}


def config_for(database: str, reports: Path) -> Path:
    """schemathesis.toml, with the database's own count of fuzzing examples if it has one."""
    examples = FUZZING_EXAMPLES.get(database)
    if examples is None:
        return CONFIG
    config = reports / "schemathesis.toml"
    extra = f"\n[phases.fuzzing.generation]\nmax-examples = {examples}\n"
    config.write_text(CONFIG.read_text() + extra)
    return config


def fuzz(server: LiveServer, args: argparse.Namespace, reports: Path, config: Path) -> int:
    base_url = server.base_url
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {examples.KEY}",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--seed",
        str(args.seed),
        "--workers",
        "1",
        "--report",
        "junit,har",
        "--report-junit-path",
        str(reports / "junit.xml"),
        "--report-har-path",
        str(reports / "schemathesis.har"),
    ]
    for op in gate.implemented_operations():
        command += ["--include-operation-id", op.operation_id]
    if args.max_examples is not None:
        command += ["--max-examples", str(args.max_examples)]
    # The sandbox operations' own sandbox (schemathesis.toml).
    env = {**os.environ, "TEN99_CONFORMANCE_SANDBOX_KEY": server.new_key()}
    if not args.plain:
        env["SCHEMATHESIS_HOOKS"] = "tests.conformance.hooks"
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def run(database: str, database_url: str | None, args: argparse.Namespace) -> int:
    reports = args.reports / database
    reports.mkdir(parents=True, exist_ok=True)
    print(f"\n== conformance on {database} ==\n", flush=True)
    if database_url is None:
        for stale in reports.glob("conformance.db*"):
            stale.unlink()
        database_url = f"sqlite:///{reports / 'conformance.db'}"
    # The fuzzer is one address sending hundreds of invalid keys on purpose, which the default
    # failed-authentication throttle would cut off; tests/api/test_auth_throttle.py tests it.
    env = {
        "TEN99_AUTH_FAILURE_LIMIT": "off",
        "TEN99_WEBHOOK_TARGETS": "allow",
        **OFFLINE,
        "NO_PROXY": "",
    }
    with running_server(
        database_url=database_url, log_path=reports / "server.log", env=env
    ) as server:
        make_examples = [str(Path(sys.executable).with_name("ten99-server")), "examples"]
        subprocess.run([*make_examples, "--database", database_url], check=True)
        fuzz_status = fuzz(server, args, reports, config_for(database, reports))
    print(f"\nJUnit report: {reports / 'junit.xml'}\nserver log: {reports / 'server.log'}\n")
    gate_status = gate.main([str(reports / "schemathesis.har")])
    return 1 if fuzz_status or gate_status else 0


def side_by_side(databases: list[str], args: argparse.Namespace) -> int:
    """A run per database, each in a process of its own; their output in turn, once each is
    done (in reports/conformance/<database>/output.txt)."""
    common = ["--seed", str(args.seed), "--reports", str(args.reports)]
    if args.max_examples is not None:
        common += ["--max-examples", str(args.max_examples)]
    if args.plain:
        common.append("--plain")
    runs = {}
    for database in databases:
        output = args.reports / database / "output.txt"
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w") as sink:
            command = [sys.executable, "-m", "tests.conformance", "--database", database, *common]
            runs[database] = (
                subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT),
                output,
            )
    failed = []
    for database, (process, output) in runs.items():
        status = process.wait()
        print(output.read_text(), flush=True)
        if status:
            failed.append(database)
    print("conformance failed on " + ", ".join(failed) if failed else "conformance passed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument(
        "--database",
        choices=DATABASES,
        action="append",
        help="sqlite: a fresh file; postgresql: a fresh database on TEN99_TEST_POSTGRES_URL's "
        "server (default: the local one), created and dropped; skipped if none answers. "
        "Give it twice for both, side by side (default: sqlite)",
    )
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--max-examples",
        type=int,
        help="examples per operation and phase, overriding schemathesis.toml (100, and 400 "
        "stateful scenarios)",
    )
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="without the hooks (hooks.py): Schemathesis as it comes, against the examples",
    )
    args = parser.parse_args(argv)
    databases = list(dict.fromkeys(args.database or ["sqlite"]))
    if len(databases) > 1:
        return side_by_side(databases, args)
    if databases == ["sqlite"]:
        return run("sqlite", None, args)
    reason = postgres.unreachable_reason()
    if reason:
        print(f"conformance on PostgreSQL skipped: {reason}")
        return 0
    with postgres.fresh_database("ten99_conformance") as url:
        return run("postgresql", url, args)


if __name__ == "__main__":
    sys.exit(main())
