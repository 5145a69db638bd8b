"""`ten99-server serve | keys create`."""

from __future__ import annotations

import argparse
import sys
import warnings

from server.config import Settings
from server.domain import keys
from server.domain.accounts import DEFAULT_ACCOUNT, Environment
from server.store.db import Database, migrate


def _database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    migrate(database.engine)
    return database


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings.from_env()
    new_key = None
    if not settings.api_key:  # with TEN99_API_KEY set, create_app makes sure that key exists
        database = _database(settings)
        new_key = keys.first_key_if_none(database)
        database.dispose()
    if new_key:
        print(
            f"No API key existed, so a sandbox key was created. It is shown only now:\n\n"
            f"    {new_key}\n",
            flush=True,
        )
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
    )
    return 0


def keys_create(args: argparse.Namespace) -> int:
    database = _database(Settings.from_env())
    key = keys.create_key(database, Environment(args.environment), args.account)
    database.dispose()
    print(key)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ten99-server", description="The 1099Policy API server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the API server (uvicorn)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.set_defaults(run=serve)

    keys_parser = commands.add_parser("keys", help="manage API keys")
    key_commands = keys_parser.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it, once")
    create.add_argument(
        "--environment", choices=[e.value for e in Environment], default=Environment.SANDBOX.value
    )
    create.add_argument("--account", default=DEFAULT_ACCOUNT)
    create.set_defaults(run=keys_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    # connexion imports starlette's test client at start-up, which warns about httpx; the
    # server never uses it, so the warning only confuses whoever starts the server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
