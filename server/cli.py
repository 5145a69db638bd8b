"""`ten99-server serve | worker | keys create | keys list | keys revoke | mail list`."""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from server.config import Settings
from server.core.errors import NotFound
from server.core.principals import DEFAULT_ACCOUNT, Environment
from server.domain import keys
from server.store import emails
from server.store.db import Database, migrate
from server.store.keys import KeyStore
from server.worker.email import check_smtp_url


def _database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    migrate(database.engine)
    return database


@contextmanager
def _key_store(settings: Settings) -> Iterator[KeyStore]:
    """The API keys, in one transaction of a migrated database."""
    database = _database(settings)
    try:
        with database.transaction() as connection:
            yield KeyStore(connection)
    finally:
        database.dispose()


def _prepare(settings: Settings) -> str | None:
    """Check the settings, migrate once and make sure of the keys, before any worker starts:
    workers then find nothing left to race for. Returns a new first key, if one was made."""
    # Imported here: it imports connexion, which `keys` commands do without (see main).
    from server.middleware.rate_limit import RateLimiter

    # They refuse bad settings early.
    RateLimiter(settings.rate_limit, settings.redis_url)
    RateLimiter(settings.auth_failure_limit, setting="TEN99_AUTH_FAILURE_LIMIT")
    if settings.smtp_url:
        check_smtp_url(settings.smtp_url)
    with _key_store(settings) as key_store:
        if settings.api_key:
            keys.ensure_key(key_store, settings.api_key)
            return None
        return keys.first_key_if_none(key_store)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    try:
        settings = Settings.from_env()
        new_key = _prepare(settings)
    except ValueError as error:
        print(f"ten99-server: {error}", file=sys.stderr)
        return 2
    if new_key:
        print(
            f"No API key existed, so a sandbox key was created. It is shown only now:\n\n"
            f"    {new_key}\n",
            flush=True,
        )
    if args.workers > 1 and not settings.redis_url:
        print(
            "ten99-server: without TEN99_REDIS_URL each worker keeps its own rate-limit budget.",
            file=sys.stderr,
        )
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        # Bounded request heads, request deadlines and connection caps (server/connections.py).
        http="server.connections:BoundedHttpProtocol",
        ws="none",
        # uvicorn logs each request at info; below that level, skip the work altogether.
        access_log=settings.log_level.lower() in ("debug", "info"),
    )
    return 0


def worker(args: argparse.Namespace) -> int:
    """The background work alone (tasks and webhook deliveries), until SIGINT or SIGTERM: run
    several beside `TEN99_WORKER=off ten99-server serve --workers N` on PostgreSQL."""
    import signal

    from server.worker import Worker

    try:
        settings = Settings.from_env()
        if settings.smtp_url:
            check_smtp_url(settings.smtp_url)
    except ValueError as error:
        print(f"ten99-server: {error}", file=sys.stderr)
        return 2
    database = _database(settings)
    background = Worker(database, settings)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: background.stop())
    background.start()
    print("ten99-server worker: running; Ctrl-C stops it.", flush=True)
    background.wait()
    background.stop()
    database.dispose()
    return 0


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of at least 1")
    return int(value)


def keys_create(args: argparse.Namespace) -> int:
    with _key_store(Settings.from_env()) as key_store:
        key = keys.create_key(key_store, Environment(args.environment), args.account)
    print(key)
    return 0


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def keys_list(args: argparse.Namespace) -> int:
    environment = Environment(args.environment) if args.environment else None
    with _key_store(Settings.from_env()) as key_store:
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
        with _key_store(Settings.from_env()) as key_store:
            key = keys.revoke_key(key_store, args.key_id)
    except NotFound:
        print(f"ten99-server: no API key has the id {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {key.id} ({key.key_hint}..., {key.account_id}, {key.environment.value})")
    return 0


def mail_list(args: argparse.Namespace) -> int:
    database = _database(Settings.from_env())
    try:
        with database.transaction(write=False) as connection:
            found = emails.newest(connection, args.limit)
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


def account_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", value):
        raise argparse.ArgumentTypeError("an account id is 1 to 40 letters, digits, _ or -")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ten99-server", description="The 1099Policy API server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the API server (uvicorn)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="server processes; share one PostgreSQL and one Redis (TEN99_REDIS_URL) between them",
    )
    serve_parser.set_defaults(run=serve)

    worker_parser = commands.add_parser(
        "worker", help="run the background work (certificates, email, webhooks) alone"
    )
    worker_parser.set_defaults(run=worker)

    keys_parser = commands.add_parser("keys", help="manage API keys")
    key_commands = keys_parser.add_subparsers(dest="keys_command", required=True)
    environments = [e.value for e in Environment]

    create = key_commands.add_parser("create", help="create a key and print it, once")
    create.add_argument("--environment", choices=environments, default=Environment.SANDBOX.value)
    create.add_argument("--account", type=account_id, default=DEFAULT_ACCOUNT)
    create.set_defaults(run=keys_create)

    listing = key_commands.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--environment", choices=environments)
    listing.add_argument("--account", type=account_id)
    listing.set_defaults(run=keys_list)

    revoke = key_commands.add_parser("revoke", help="revoke a key by its id (see `keys list`)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=keys_revoke)
    mail_parser = commands.add_parser("mail", help="read the emails the server sent or recorded")
    mail_commands = mail_parser.add_subparsers(dest="mail_command", required=True)
    mail_listing = mail_commands.add_parser("list", help="the newest emails first, with bodies")
    mail_listing.add_argument("--limit", type=positive, default=20)
    mail_listing.set_defaults(run=mail_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    # connexion imports starlette's test client at start-up, which warns about httpx; the
    # server never uses it, so the warning only confuses whoever starts the server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
