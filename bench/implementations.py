"""The servers compared, each started fresh in a subprocess on a free port of 127.0.0.1 and
stopped (its whole process group) however the bench ends."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from sqlalchemy import make_url

from spec import node

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi.yaml"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 120  # seconds; Prism and a PostgreSQL migration take a few
STOP_TIMEOUT = 20
# Everything all_implementations() returns, in the order each round runs them.
NAMES = (
    "sqlite",
    "sqlite-unlogged",
    "postgresql",
    "postgresql-unlogged",
    "postgresql-2w",
    "prism",
    "ceiling",
    "ceiling-postgresql",
)


@dataclass(frozen=True)
class Running:
    base_url: str  # the API's root: requests go to base_url + "/contractors"
    api_key: str
    pid: int  # the root of the server's process tree
    # This server on "sqlite" or "postgresql": it counts each request's statements.
    database: str | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**settings: str) -> dict[str, str]:
    """This environment without the caller's TEN99_* settings, plus `settings`; the checkout
    first on the import path, so that the server measured is the one in this tree."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TEN99_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | settings


def wait_until_up(url: str, headers: dict[str, str], process: subprocess.Popen) -> None:
    """Until `url` answers anything over HTTP (an error status means it is up too)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before it answered")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"did not answer {url} within {START_TIMEOUT}s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL if it lingers: workers and node children too."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(path: Path, lines: int = 4) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


@contextmanager
def launched(
    command: list[str], *, workdir: Path, env: dict[str, str], ready_url: str, api_key: str
) -> Iterator[int]:
    """Run `command` in its own process group, logging to workdir/server.log; yields its pid
    once `ready_url` answers."""
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group: stop() reaches every child, and Ctrl-C reaches only the bench.
            start_new_session=True,
        )
        try:
            try:
                wait_until_up(ready_url, {"Authorization": f"Bearer {api_key}"}, process)
            except RuntimeError as error:
                raise RuntimeError(f"{error}; its log ends:\n{log_tail(log_path)}") from None
            yield process.pid
        finally:
            stop(process)


def postgres_unreachable(admin_url: str) -> str | None:
    try:
        with psycopg.connect(admin_url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"no PostgreSQL at {admin_url}: {reason}"
    return None


def redis_unreachable(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"no Redis at {url}: {error}"
    return None


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database for one server start; yields the server's URL, drops it after."""
    name = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Implementation(ABC):
    """A server to measure."""

    name: str
    # Said under the table when set: how this one ran differently from what its name says.
    note: str | None = None
    delivers_webhooks = False  # measured on the scenarios with a webhook endpoint
    restores_snapshots = False  # a restore of a snapshot is timed

    def unavailable(self) -> str | None:
        """Why it can't run on this machine, or None; may first install what it needs."""
        return None

    @abstractmethod
    def running(self) -> AbstractContextManager[Running]:
        """A fresh server, stopped on exit."""


@dataclass
class Ten99Server(Implementation):
    """`python -m server serve`, as configured out of the box, except for a rate limit it can
    never reach and quiet logs."""

    name: str
    postgres_url: str | None = None  # the admin URL; None: SQLite in the working directory
    workers: int = 1
    redis_url: str | None = None
    note: str | None = None
    request_log: bool = True  # the sandbox's request log, on by default
    restores_snapshots: bool = True
    delivers_webhooks = True

    def unavailable(self) -> str | None:
        return postgres_unreachable(self.postgres_url) if self.postgres_url else None

    @contextmanager
    def database(self) -> Iterator[dict[str, str]]:
        if self.postgres_url is None:
            yield {}  # the default: ten99policy.db in the working directory
            return
        with fresh_postgres_database(self.postgres_url) as url:
            yield {"TEN99_DATABASE_URL": url}

    @contextmanager
    def running(self) -> Iterator[Running]:
        api_key = "t9k_test_" + secrets.token_urlsafe(16)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/api/v1"
        command = [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(self.workers)]
        settings = {
            "TEN99_RATE_LIMIT": "1000000/second",
            "TEN99_API_KEY": api_key,
            "TEN99_LOG_LEVEL": "warning",
            # Each answer's statements, in a header: the bench reports them per scenario.
            "TEN99_COUNT_STATEMENTS": "true",
        }
        if self.redis_url:
            settings["TEN99_REDIS_URL"] = self.redis_url
        if not self.request_log:
            settings["TEN99_REQUEST_LOG"] = "false"
        with (
            tempfile.TemporaryDirectory(prefix=f"ten99-bench-{self.name}-") as tmp,
            self.database() as database,
            launched(
                command,
                workdir=Path(tmp),
                env=clean_environment(**settings, **database),
                ready_url=f"{base_url}/openapi.json",
                api_key=api_key,
            ) as pid,
        ):
            yield Running(base_url, api_key, pid, "postgresql" if self.postgres_url else "sqlite")


class Prism(Implementation):
    """Stoplight Prism mocking the whole contract from its examples, from node_modules (the
    program `npx --no-install prism` runs, without npx's own process in the measure)."""

    name = "prism"

    def unavailable(self) -> str | None:
        # `npm ci` when package-lock.json changed; its output goes to stderr, with the progress.
        installed = subprocess.run(
            [sys.executable, "-m", "spec.node"], cwd=ROOT, stdout=sys.stderr, check=False
        )
        if installed.returncode != 0:
            return "python -m spec.node could not install node_modules (see above)"
        if not node.tool("prism").exists():
            return f"{node.tool('prism')} is missing: is @stoplight/prism-cli in package.json?"
        return None

    @contextmanager
    def running(self) -> Iterator[Running]:
        api_key = "t9k_test_" + secrets.token_urlsafe(16)
        port = free_port()
        # Prism serves the contract's paths without the servers' /api/v1 prefix.
        base_url = f"http://127.0.0.1:{port}"
        # Warnings only, as the server runs: Prism logs every request at its default level.
        command = [str(node.tool("prism")), "mock", str(CONTRACT)]
        command += ["--port", str(port), "--host", "127.0.0.1", "--verboseLevel", "warn"]
        with (
            tempfile.TemporaryDirectory(prefix="ten99-bench-prism-") as tmp,
            launched(
                command,
                workdir=Path(tmp),
                env=clean_environment(),
                ready_url=f"{base_url}/contractors",
                api_key=api_key,
            ) as pid,
        ):
            yield Running(base_url, api_key, pid)


class Ceiling(Implementation):
    """bench/ceiling.py: the same operations with one SQLite row each, nothing else."""

    name = "ceiling"
    module = "bench.ceiling"

    @contextmanager
    def database(self, tmp: Path) -> Iterator[list[str]]:
        """The arguments that give the ceiling its database, which lasts as long as the block."""
        yield ["--database", str(tmp / "ceiling.db")]

    @contextmanager
    def running(self) -> Iterator[Running]:
        api_key = "t9k_test_" + secrets.token_urlsafe(16)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/api/v1"
        with (
            tempfile.TemporaryDirectory(prefix=f"ten99-bench-{self.name}-") as tmp,
            self.database(Path(tmp)) as database,
            launched(
                [sys.executable, "-m", self.module, "--port", str(port), *database],
                workdir=Path(tmp),
                env=clean_environment(),
                ready_url=f"{base_url}/contractors",
                api_key=api_key,
            ) as pid,
        ):
            yield Running(base_url, api_key, pid)


@dataclass
class PostgresCeiling(Ceiling):
    """bench/ceiling_postgres.py: the same operations on PostgreSQL through asyncpg, each with a
    lookup of the API key and one row."""

    postgres_url: str
    name: str = "ceiling-postgresql"
    module = "bench.ceiling_postgres"

    def unavailable(self) -> str | None:
        return postgres_unreachable(self.postgres_url)

    @contextmanager
    def database(self, tmp: Path) -> Iterator[list[str]]:
        with fresh_postgres_database(self.postgres_url) as url:
            # asyncpg takes libpq's URL form, without SQLAlchemy's driver name.
            plain = make_url(url).set(drivername="postgresql").render_as_string(False)
            yield ["--database-url", plain]


def all_implementations(postgres_url: str, redis_url: str) -> list[Implementation]:
    """In the order they run within a round (NAMES)."""
    redis_missing = redis_unreachable(redis_url)
    outside = "CPU and RSS count the server's processes, not PostgreSQL's"
    return [
        Ten99Server("sqlite"),
        Ten99Server(
            "sqlite-unlogged",
            request_log=False,
            restores_snapshots=False,  # as sqlite's
            note="sqlite-unlogged: sqlite with the request log off (TEN99_REQUEST_LOG=false)",
        ),
        Ten99Server("postgresql", postgres_url=postgres_url, note=f"postgresql: {outside}"),
        Ten99Server(
            "postgresql-unlogged",
            postgres_url=postgres_url,
            request_log=False,
            restores_snapshots=False,  # as postgresql's
            note="postgresql-unlogged: postgresql with the request log off, where the log's "
            "writes would go to the same PostgreSQL",
        ),
        Ten99Server(
            "postgresql-2w",
            postgres_url=postgres_url,
            workers=2,
            redis_url=None if redis_missing else redis_url,
            note=f"postgresql-2w: without Redis ({redis_missing}); {outside}"
            if redis_missing
            else f"postgresql-2w: {outside} or Redis's",
        ),
        Prism(),
        Ceiling(),
        PostgresCeiling(postgres_url),
    ]
