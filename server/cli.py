"""`ten99-server serve | worker | migrate | check-config | keys create | keys list | keys revoke |
mail list | examples | trigger`: each checks the settings first, and reports what stops it in one
line."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from server.core import heartbeat, logs
from server.core.egress import TargetPolicy
from server.core.errors import DomainError, NotFound
from server.core.heartbeat import HEARTBEAT_FILE, Heartbeat
from server.core.metrics import MULTIPROCESS_DIR
from server.core.principals import DEFAULT_ACCOUNT, Environment, Principal, hash_key
from server.core.settings import Settings, SettingsError, env_name
from server.domain import job_categories, keys
from server.sandbox import examples as sample_data
from server.sandbox.triggers import TRIGGERS
from server.store import schema
from server.store.db import Database, make_engine
from server.store.keys import KeyStore
from server.worker import request_log_process

PROG = "ten99-server"


class CommandFailed(Exception):
    """A command cannot go on: its message is printed as one line, without a traceback."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"database_url": args.database} if getattr(args, "database", None) else {}
    try:
        return Settings.from_env(**overrides)
    except SettingsError as bad:
        raise CommandFailed(str(bad), status=2) from None


def _shown(url: str) -> str:
    """A database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database, or one in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def _database(settings: Settings, *, create: bool = False, checkpoints: bool = True) -> Database:
    """The migrated database. Only `serve` creates a SQLite file: other commands run in the
    wrong folder would otherwise work on an empty database of their own."""
    path = _sqlite_file(settings.database_url)
    if path is not None and not create and not path.exists():
        raise CommandFailed(
            f"no database at {path}: run this where `{PROG} serve` runs, or name the database "
            "with --database or TEN99_DATABASE_URL"
        )
    database = Database(settings.database_url, checkpoints=checkpoints)
    try:
        schema.prepare(database.engine, may_migrate=settings.migrate_at_start)
    except (DBAPIError, schema.SchemaNotCurrent) as failed:
        database.dispose()
        raise _database_failed(settings, failed) from None
    return database


def _database_failed(settings: Settings, failed: Exception) -> CommandFailed:
    shown = _shown(settings.database_url)
    if isinstance(failed, DBAPIError):
        reason = str(failed.orig).strip().splitlines()[0] if failed.orig else ""
        return CommandFailed(f"cannot reach the database {shown}: {reason}")
    return CommandFailed(f"{shown}: {failed}")


@contextmanager
def _key_store(settings: Settings) -> Iterator[KeyStore]:
    """The API keys, in one transaction of a migrated database."""
    database = _database(settings)
    try:
        with database.server_work() as work:
            yield work.keys
    finally:
        database.dispose()


def _prepare(settings: Settings) -> str | None:
    """Migrate once and make sure of the keys, before any worker starts: workers then find
    nothing left to race for. Returns a new first key, if one was made."""
    database = _database(settings, create=True)
    try:
        with database.server_work() as work:
            key_store = work.keys
            if settings.api_key:
                keys.ensure_key(key_store, settings.api_key)
                return None
            return keys.first_key_if_none(key_store)
    finally:
        database.dispose()


# Addresses that listen on every interface; links name this machine's loopback instead.
POLL_SECONDS = 0.1  # how often a worker process looks for due work
# `serve`'s worker process gives way to its server processes when the CPU is short: requests are
# answered first, and the background work they queued catches up as soon as there is time.
WORKER_NICENESS = 10
STOP_MARGIN_SECONDS = 5  # past a process's own grace, before it is killed
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def listen_url(host: str, port: int) -> str:
    host = WILDCARDS.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _check_host(args.host, args.port)
    logs.configure(settings.log_level, settings.log_format)  # what migrating at start says
    new_key = _prepare(settings)
    if not _loopback_only(args.host):
        why = f"`serve --host {args.host}` listens beyond loopback"
        settings = _shared_targets(settings, why, export=True)
    if new_key:
        print(
            f"No API key existed, so a sandbox key was created. It is shown only now:\n\n"
            f"    {new_key}\n",
            flush=True,
        )
    if args.workers > 1 and not settings.redis_url:
        print(
            f"{PROG}: without TEN99_REDIS_URL each worker keeps its own rate-limit budget.",
            file=sys.stderr,
        )
    # The app reads its settings from the environment, in every worker process.
    if args.database:
        os.environ["TEN99_DATABASE_URL"] = settings.database_url
    if not settings.public_url:
        # Links (in responses, emails and webhook deliveries) are absolute: on this address.
        os.environ["TEN99_PUBLIC_URL"] = listen_url(args.host, args.port)
        if args.host in WILDCARDS:
            print(
                f"{PROG}: links point at {os.environ['TEN99_PUBLIC_URL']}; set TEN99_PUBLIC_URL "
                "to the address other machines reach this server at.",
                file=sys.stderr,
            )
    with _runtime_folder(settings) as folder:
        # The background work runs in a process of its own: its threads then never hold a
        # write lock a request waits on while they wait for this process's interpreter.
        background = _start_worker_process() if settings.worker else None
        os.environ["TEN99_WORKER"] = "off"
        # So does the request log's writing: the server processes' loops only note requests.
        request_log = _start_request_log_process(folder) if settings.request_log else None
        # uvicorn answers SIGTERM by closing its listener and answering the requests in flight,
        # then raises the signal again: here, to end `serve` through the `finally` below.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            _run_uvicorn(args, settings)
        finally:
            if background is not None:
                _stop_process(background, settings.shutdown_grace_seconds)
            # Last: the server processes ship it what they noted until they end.
            if request_log is not None:
                _stop_process(request_log, settings.shutdown_grace_seconds)
    return 0


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _runtime_folder(settings: Settings) -> Iterator[Path]:
    """A folder the processes of this `serve` share while it runs: their metrics' files (one
    /metrics adds up every process's counts) and the worker process's heartbeat, which its
    server processes' /readyz reads. Named in the environment, before any process starts."""
    folder = Path(tempfile.mkdtemp(prefix="ten99-serve-"))
    try:
        if not os.environ.get(MULTIPROCESS_DIR):  # else the operator's own, kept as it is
            (folder / "metrics").mkdir()
            os.environ[MULTIPROCESS_DIR] = str(folder / "metrics")
        if settings.worker:
            os.environ[HEARTBEAT_FILE] = str(folder / "scheduler.beat")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _loopback_only(host: str) -> bool:
    """Whether `host` (what --host names) is reached from this machine alone."""
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in answers)


def _shared_targets(settings: Settings, why: str, *, export: bool) -> Settings:
    """Unless TEN99_WEBHOOK_TARGETS says otherwise, a server others reach sends webhook
    deliveries to public addresses only: none of its users may make it POST to a service of
    the host or network it runs in. With `export`, for the processes `serve` starts, which read
    their settings from the environment."""
    name = env_name("webhook_targets")
    if os.environ.get(name):
        return settings
    if export:
        os.environ[name] = TargetPolicy.DENY.value
    print(
        f"{PROG}: {why}: webhook deliveries go to public addresses only ({name}=deny; "
        "set it to loopback or allow to change that).",
        file=sys.stderr,
    )
    return settings.model_copy(update={"webhook_targets": TargetPolicy.DENY})


def _check_host(host: str, port: int) -> None:
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as unknown:
        raise CommandFailed(f"--host {host!r}: {unknown.strerror}", status=2) from None
    except UnicodeError:  # an empty or overlong label, refused before any lookup
        raise CommandFailed(f"--host {host!r}: not a host name", status=2) from None


def _run_uvicorn(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        # One format for every line (server/core/logs.py); server.access writes the access lines.
        log_config=logs.config(settings.log_level, settings.log_format),
        access_log=False,
        # Bounded request heads, request deadlines and connection caps
        # (server/middleware/connections.py).
        http="server.middleware.connections:BoundedHttpProtocol",
        ws="none",
        # Requests still unanswered this long after SIGTERM are cut.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def _start_worker_process() -> BaseProcess:
    """The worker, in a child of this process that ends when it does: forked, so that it starts
    at once with what this process has imported. Its settings are the server processes', from
    the environment `serve` has set."""
    return _forked(_serve_worker, (os.getpid(),), "ten99-worker")


def _forked(target: Callable[..., None], args: tuple, name: str) -> BaseProcess:
    """A child process running `target(*args)`, forked: it starts at once with what this
    process has imported."""
    process = multiprocessing.get_context("fork").Process(target=target, args=args, name=name)
    process.start()
    return process


def _start_request_log_process(folder: Path) -> BaseProcess:
    """The process that writes the request log the server processes ship to its socket,
    forked as the worker is; the socket listens before they start, named in the environment."""
    path = str(folder / "request-log.sock")
    listener = request_log_process.listen(path)
    writer = _forked(_serve_request_log, (listener, os.getpid()), "ten99-request-log")
    listener.close()
    os.environ[request_log_process.SOCKET] = path
    return writer


def _serve_request_log(listener: socket.socket, parent: int) -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    database = Database(settings.database_url)  # its schema `serve` prepared before the fork
    request_log_process.serve(listener, database, settings.request_log_limit, parent)
    database.dispose()
    logging.shutdown()
    os._exit(0)


def _stop_process(process: BaseProcess, grace: int) -> None:
    process.terminate()
    process.join(timeout=grace + STOP_MARGIN_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()


def worker(args: argparse.Namespace) -> int:
    """The background work alone (tasks and webhook deliveries), until SIGINT or SIGTERM: run
    several beside `TEN99_WORKER=off ten99-server serve --workers N` on PostgreSQL."""
    settings = _settings(args)
    if args.port is not None:
        _check_host(args.host, args.port)
    print(f"{PROG} worker: running; Ctrl-C stops it.", flush=True)
    _run_worker(settings, probes_host=args.host, probes_port=args.port)
    return 0


def _serve_worker(parent: int) -> None:
    os.nice(WORKER_NICENESS)
    _run_worker(Settings.from_env(), parent)


def _run_worker(
    settings: Settings,
    parent: int | None = None,
    probes_host: str = "127.0.0.1",
    probes_port: int | None = None,
) -> None:
    """The worker until SIGINT or SIGTERM, or until the process `parent` (`serve`'s, whose
    worker this is) is gone; with `probes_port`, /healthz, /readyz and /metrics on it. Then
    it stops within TEN99_SHUTDOWN_GRACE_SECONDS, and the process ends."""
    from server.web import operator
    from server.worker import Worker
    from server.worker.registry import KINDS

    logs.configure(settings.log_level, settings.log_format)
    # `serve`'s worker process leaves SQLite's checkpoints to the server's.
    database = _database(settings, checkpoints=parent is None)
    if parent is None:
        why = "a worker of its own serves a shared server"
        settings = _shared_targets(settings, why, export=False)
    # No request of this process wakes it when work is queued: it looks often.
    beating = heartbeat.of_environment() if parent is not None else None
    background = Worker(database, settings, interval=POLL_SECONDS, heartbeat=Heartbeat(beating))
    probes_server = None
    if probes_port is not None:
        probes = operator.Probes(database, background.heartbeat.age, task_kinds=KINDS)
        probes_server = operator.serve_in_thread(probes, probes_host, probes_port)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: background.request_stop(settings.shutdown_grace_seconds))
    background.start()
    background.wait(while_alive=parent)
    background.stop(settings.shutdown_grace_seconds)
    if probes_server is not None:
        probes_server.shutdown()
    database.dispose()
    # What was unfinished is handed back; a thread still stuck in it (a DNS lookup, an SMTP
    # server) must not hold the process past its grace, as the interpreter's exit would.
    logging.shutdown()
    os._exit(0)


def migrate(args: argparse.Namespace) -> int:
    """The schema brought up to date, as a step of its own: run it before the new version's
    `serve` and `worker` processes start with TEN99_MIGRATE_AT_START=off."""
    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        before, after = schema.migrate(engine)
    except DBAPIError as unreachable:
        raise _database_failed(settings, unreachable) from None
    finally:
        engine.dispose()
    shown = _shown(settings.database_url)
    if before == after:
        print(f"{shown}: {after.describe()}; nothing to do")
    else:
        start = f"revision {before.current}" if before.current else "an empty database"
        print(f"{shown}: migrated from {start} to revision {after.current}")
    return 0


def check_config(args: argparse.Namespace) -> int:
    """Every setting checked, the database (and Redis) reached, and what is in effect shown."""
    settings = _settings(args)
    path = _sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        print(f"database: {path} does not exist yet; `{PROG} serve` creates it here")
    else:
        database = _database(settings)
        current = schema.version(database.engine)
        database.dispose()
        print(f"database: {_shown(settings.database_url)} reached; {current.describe()}")
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=5).ping()
        except redis.RedisError as unreachable:
            raise CommandFailed(
                f"cannot reach Redis at {settings.redis_url}: {unreachable}"
            ) from None
        print(f"redis: {settings.redis_url} reached")
    for name, value in settings.model_dump().items():
        print(f"{env_name(name)}={_shown_setting(name, value)}")
    return 0


def _shown_setting(name: str, value) -> str:
    if value is None:
        return "off" if name == "connections_per_client" else "(unset)"
    if name in ("api_key", "smtp_url"):
        return "(set)"  # secrets
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(getattr(value, "value", value))


def keys_create(args: argparse.Namespace) -> int:
    with _key_store(_settings(args)) as key_store:
        key = keys.create_key(key_store, Environment(args.environment), args.account)
    print(key)
    return 0


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def keys_list(args: argparse.Namespace) -> int:
    environment = Environment(args.environment) if args.environment else None
    with _key_store(_settings(args)) as key_store:
        found = key_store.list(args.account, environment)
    rows = [("ID", "ACCOUNT", "ENVIRONMENT", "KEY", "CREATED", "STATUS")]
    rows += [
        (
            key.id,
            key.account_id,
            key.environment.value,
            key.key_hint + "...",
            _when(key.created),
            "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}",
        )
        for key in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    try:
        with _key_store(_settings(args)) as key_store:
            key = keys.revoke_key(key_store, args.key_id)
    except NotFound:
        raise CommandFailed(f"no API key has the id {args.key_id}") from None
    print(f"revoked {key.id} ({key.key_hint}..., {key.account_id}, {key.environment.value})")
    return 0


def mail_list(args: argparse.Namespace) -> int:
    database = _database(_settings(args))
    try:
        with database.server_work(write=False) as work:
            found = work.newest_emails(args.limit)
    finally:
        database.dispose()
    if not found:
        print("No email has been sent or recorded.")
    for email in found:
        print(f"{email['id']}  {_when(email['created'])}  {email['status']}  {email['account_id']}")
        print(f"To: {email['recipient']}")
        print(f"Subject: {email['subject']}")
        print()
        print(email["body"])
        print("-" * 72)
    return 0


def categories_add(args: argparse.Namespace) -> int:
    """Add a job category to the catalogue, and announce it (`category_code.added`) to every
    account and environment that has a key."""
    try:
        fields = job_categories.new_category(
            args.name, args.description, args.risk_class, args.coverage, approved=args.approved
        )
    except DomainError as refused:
        raise CommandFailed(str(refused), status=2) from None
    database = _database(_settings(args))
    try:
        with database.server_work() as work:
            category = work.job_categories.add(fields, work.wall())
            principals = work.keys.principals()
        for principal in principals:
            with database.unit_of_work(principal) as uow:
                job_categories.announce(uow, category)
    finally:
        database.dispose()
    print(f"{category['id']}  {category['name']}  announced to {len(principals)} account(s)")
    return 0


def webhooks_check(args: argparse.Namespace) -> int:
    """Check a platform's webhook receiver; exit 1 when it accepted a delivery it should have
    refused, refused one it should have accepted, or took over the timeout."""
    from server.sandbox import receiver_check

    if not args.secret.startswith("whsec_"):
        raise CommandFailed("the secret is an endpoint's, whsec_…", status=2)
    try:
        outcomes = receiver_check.check(args.url, args.secret)
    except ValueError as error:  # a secret that is no base64 after its prefix
        raise CommandFailed(f"the secret is not an endpoint's: {error}", status=2) from None
    for line in receiver_check.report(outcomes):
        print(line)
    failed = [outcome for outcome in outcomes if not outcome.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} as a receiver should answer")
    return 1 if failed else 0


LOGS_PAGE = 500  # requests read at once while following
LOGS_POLL_SECONDS = 0.25


def logs_tail(args: argparse.Namespace) -> int:
    """Print a sandbox's request log as it grows: its latest requests, then each new one."""
    settings = _settings(args)
    database = _database(settings)
    try:
        with database.server_work(write=False) as work:
            principal = _sandbox_of(work.keys, args)
        seq: int | None = None
        limit = args.last
        while True:
            with database.server_work(write=False) as work:
                logged = work.request_logs_after(principal, seq, limit)
            for row in logged:
                print(_logged_line(row), flush=True)
                seq = row["seq"]
            if seq is None:
                seq = 0  # nothing logged yet: from the first request on
            if not args.follow:
                return 0
            limit = LOGS_PAGE
            time.sleep(LOGS_POLL_SECONDS)
    except KeyboardInterrupt:
        return 0
    finally:
        database.dispose()


def _sandbox_of(key_store: KeyStore, args: argparse.Namespace) -> Principal:
    if args.key is None:
        if not key_store.account_exists(args.account):
            raise CommandFailed(f"no account {args.account}")
        return Principal(args.account, Environment.SANDBOX)
    found = key_store.find_active(hash_key(args.key))
    if found is None or found.environment is not Environment.SANDBOX:
        raise CommandFailed("no active sandbox key is this one", status=2)
    return Principal(found.account_id, Environment.SANDBOX)


def _logged_line(row: dict) -> str:
    when = datetime.fromtimestamp(row["created"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [
        when,
        row["id"],
        str(row["status"]),
        f"{row['method']} {row['path']}",
        row["operation_id"] or "-",
        f"{row['duration_us'] / 1000:.1f} ms",
    ]
    if row["error_code"]:
        parts.append(row["error_code"])
    if row["idempotency_key"]:
        replayed = " (replayed)" if row["idempotent_replayed"] else ""
        parts.append(f"key {row['idempotency_key']}{replayed}")
    if row["test_fault"]:
        parts.append(f"fault {row['test_fault']}")
    return "  ".join(parts)


def certificate_pdf(args: argparse.Namespace) -> int:
    """A PDF stating the lines given: a sandbox certificate of insurance whose text decides its
    review (openapi.yaml's createCertificate)."""
    from server.pdf import sample

    sys.stdout.buffer.write(sample.stating(*args.lines))
    return 0


def examples(args: argparse.Namespace) -> int:
    settings = _settings(args)
    database = _database(settings, create=True)
    try:
        account_id = _make_examples(database, settings)
    finally:
        database.dispose()
    print(
        f"The documents' examples are in the sandbox of {account_id}, on a test clock at "
        f"{_when(sample_data.TIME)}, with nothing else. Their key, as the documents show it:\n\n"
        f"    {sample_data.KEY}\n\n"
        f"    curl -u {sample_data.KEY}: http://127.0.0.1:8000/api/v1/contractors/"
        f"{sample_data.IDS['contractor']}"
    )
    return 0


def _make_examples(database: Database, settings: Settings) -> str:
    """The examples, with the certificates and documents the worker makes for them."""
    from server import worker

    account_id = sample_data.make(database, settings)
    worker.run_due(database, settings)
    return account_id


def trigger(args: argparse.Namespace) -> int:
    from server.sandbox.triggers import fire

    settings = _settings(args)
    database = _database(settings)
    # The outcome of each delivery is reported below, not logged as it happens.
    logging.getLogger("server.worker").setLevel(logging.ERROR)
    try:
        with database.server_work(write=False) as work:
            if not work.keys.account_exists(args.account):
                raise CommandFailed(
                    f"no account {args.account}: `{PROG} keys create --account {args.account}` "
                    "makes it, with a key"
                )
        fired = fire(database, settings, args.account, args.event_type)
    finally:
        database.dispose()
    for event in fired.events:
        print(f"{event['id']}  {event['type']}  about {event['object_id']}")
    if not fired.events:
        raise CommandFailed(f"{args.event_type} happened, yet no event was recorded")
    if not fired.deliveries:
        print(
            f"No enabled webhook endpoint of {args.account}'s sandbox receives "
            f"{args.event_type}: add one with POST /api/v1/webhook_endpoints, and trigger again."
        )
    for delivery in fired.deliveries:
        print(f"  -> {delivery.url}: {delivery.outcome}")
    return 0


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of at least 1")
    return int(value)


def port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError("a port is a whole number from 1 to 65535")
    return int(value)


def account_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", value):
        raise argparse.ArgumentTypeError("an account id is 1 to 40 letters, digits, _ or -")
    return value


def version() -> str:
    from server.contract.spec import load_spec

    contract = load_spec()["info"]["version"]
    return f"{PROG} {metadata.version('ten99policy-server')} (contract {contract})"


def build_parser() -> argparse.ArgumentParser:
    helpful: dict[str, Any] = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The 1099Policy API server. Settings come from TEN99_* environment "
        "variables (see the README); `check-config` shows those in effect.",
        **helpful,
    )
    parser.add_argument("--version", action="version", version=version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Every command works on one database: TEN99_DATABASE_URL, or this.
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL of the database (sqlite:///path or postgresql+psycopg://user@host/db)"
        "; default: TEN99_DATABASE_URL, else ten99policy.db in the current folder",
    )

    def command(group, name: str, run, help: str, **kwargs) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help, **helpful, **kwargs)
        sub.set_defaults(run=run)
        return sub

    def actions(name: str, help: str):
        """A command of actions (`keys create`): the group its actions are added to."""
        return command(commands, name, None, help).add_subparsers(
            dest=f"{name}_command", required=True, metavar="ACTION"
        )

    serve_parser = command(
        commands, "serve", serve, "run the API server (uvicorn)", parents=[database]
    )
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=port, default=8000, help="port to listen on")
    serve_parser.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="server processes; share one PostgreSQL and one Redis (TEN99_REDIS_URL) between them",
    )
    worker_parser = command(
        commands,
        "worker",
        worker,
        "run the background work (certificates, email, webhooks) alone",
        parents=[database],
    )
    worker_parser.add_argument(
        "--port",
        type=port,
        help="serve /healthz, /readyz and /metrics on this port (default: none)",
    )
    worker_parser.add_argument("--host", default="127.0.0.1", help="address of --port's listener")

    command(
        commands,
        "migrate",
        migrate,
        "bring the database's schema up to date (safe to repeat), as a step before the servers "
        "start; TEN99_MIGRATE_AT_START=off then forbids them to migrate",
        parents=[database],
    )
    command(
        commands,
        "check-config",
        check_config,
        "check every setting, reach the database, and show the settings in effect",
        parents=[database],
    )

    key_commands = actions("keys", "manage API keys")
    environments = [e.value for e in Environment]
    create = command(
        key_commands, "create", keys_create, "create a key and print it, once", parents=[database]
    )
    create.add_argument(
        "--environment",
        choices=environments,
        default=Environment.SANDBOX.value,
        help="sandbox keys start t9k_test_, production keys t9k_live_",
    )
    create.add_argument(
        "--account", type=account_id, default=DEFAULT_ACCOUNT, help="the account the key opens"
    )
    listing = command(
        key_commands,
        "list",
        keys_list,
        "list keys (never the keys themselves)",
        parents=[database],
    )
    listing.add_argument("--environment", choices=environments, help="only this environment's")
    listing.add_argument("--account", type=account_id, help="only this account's")
    revoke = command(
        key_commands,
        "revoke",
        keys_revoke,
        "revoke a key by its id (see `keys list`)",
        parents=[database],
    )
    revoke.add_argument("key_id", help="the key's id, key_...")

    mail_commands = actions("mail", "read the emails the server sent or recorded")
    mail_listing = command(
        mail_commands,
        "list",
        mail_list,
        "the newest emails first, with bodies",
        parents=[database],
    )
    mail_listing.add_argument("--limit", type=positive, default=20, help="how many emails to show")

    category_commands = actions("categories", "manage the job category catalogue")
    adding = command(
        category_commands,
        "add",
        categories_add,
        "add a job category to the catalogue every account reads, and announce it to each "
        "(category_code.added)",
        parents=[database],
    )
    adding.add_argument("name", help="the category's name, e.g. 'Solar panel installation'")
    adding.add_argument("--description", required=True, help="what the work is")
    adding.add_argument(
        "--risk-class", required=True, choices=job_categories.RISK_CLASSES, help="for rating"
    )
    adding.add_argument(
        "--coverage",
        action="append",
        default=[],
        metavar="TYPE",
        help="a coverage type it carries, once each (general is required)",
    )
    adding.add_argument(
        "--unapproved",
        dest="approved",
        action="store_false",
        help="listed, but no job may use it (job_category_not_approved)",
    )
    log_commands = actions("logs", "read a sandbox's request log")
    tailing = command(
        log_commands,
        "tail",
        logs_tail,
        "print a sandbox's latest requests and answers, then each new one as it is logged "
        "(Ctrl-C stops)",
        parents=[database],
    )
    whose = tailing.add_mutually_exclusive_group()
    whose.add_argument("--key", help="the sandbox's key (t9k_test_…)")
    whose.add_argument("--account", type=account_id, default=DEFAULT_ACCOUNT, help="whose sandbox")
    tailing.add_argument("--last", type=positive, default=10, help="earlier requests shown first")
    tailing.add_argument(
        "--no-follow", dest="follow", action="store_false", help="print them and stop"
    )
    webhook_commands = actions("webhooks", "check a webhook receiver")
    checking = command(
        webhook_commands,
        "check",
        webhooks_check,
        "send a receiver signed deliveries (a valid event, the same again, a bad signature, a "
        "stale timestamp, an altered body) and say which it accepted and refused; exit 1 "
        "unless it accepted the first two and refused the rest, each within 10 s",
    )
    checking.add_argument("url", help="the receiver's URL, e.g. http://127.0.0.1:9000/hooks")
    checking.add_argument("--secret", required=True, help="the endpoint's signing secret (whsec_…)")
    stating = command(
        commands,
        "certificate-pdf",
        certificate_pdf,
        "write to standard output a PDF stating LINEs, a certificate of insurance to upload for "
        "review in the sandbox, where its text decides the review",
    )
    stating.add_argument(
        "lines",
        nargs="*",
        metavar="LINE",
        help='e.g. "General liability: each occurrence $1,000,000; aggregate $2,000,000; '
        'expires 2099-12-31"',
    )
    command(
        commands,
        "examples",
        examples,
        "make the objects the documents' examples name, at their ids, in the sandbox the "
        f"documents' key ({sample_data.KEY}) opens, replacing what it held",
        parents=[database],
    )
    triggering = command(
        commands,
        "trigger",
        trigger,
        "make, in a sandbox, the objects an event needs so that it happens, and deliver it "
        "(signed) to the webhook endpoints that receive it",
        parents=[database],
    )
    triggering.add_argument("event_type", choices=sorted(TRIGGERS), metavar="EVENT_TYPE")
    triggering.add_argument(
        "--account", type=account_id, default=DEFAULT_ACCOUNT, help="whose sandbox"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # connexion imports starlette's test client at start-up, which warns about httpx; the
    # server never uses it, so the warning only confuses whoever starts the server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandFailed as failed:
        for line in str(failed).splitlines():
            print(f"{PROG}: {line}", file=sys.stderr)
        return failed.status


if __name__ == "__main__":
    sys.exit(main())
