"""Fresh PostgreSQL databases for the tests and the conformance run.

The server is the one at TEN99_TEST_POSTGRES_URL, or the local one (127.0.0.1:5432, user
postgres). Each run creates its own database and drops it afterwards; where no server answers,
callers skip and say why.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from server.store.tables import metadata

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("TEN99_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


def unreachable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not, for a skip message."""
    engine = create_engine(admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"no PostgreSQL at {make_url(admin_url()).render_as_string()}: {reason}"
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_database(prefix: str = "ten99_test") -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy URL and drops it on exit."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# Tables the migrations fill with data the tests rely on (the job category catalogue).
SEEDED_TABLES = ("job_categories",)

# One engine per database for the whole run: emptying is then a few short statements.
_engines: dict[str, Engine] = {}


def empty(url: str) -> None:
    """Delete every row but Alembic's and the seeded catalogue's, children first, so that each
    test starts from a freshly migrated schema. DELETE, not TRUNCATE: on tables of a few rows
    it is ten times faster."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(url, pool_size=1)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name not in SEEDED_TABLES:
                connection.execute(table.delete())
