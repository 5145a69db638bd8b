"""Engine, transactions, migrations, and where database work runs.

Work of a request runs in a thread, never on the event loop: reads in a small pool, writes in
one writer thread on SQLite (SQLite takes one writer at a time, and threads that fight over its
lock wait in sleeps of up to 100 ms). Background threads that write take the same lock."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 1099_0001  # the PostgreSQL advisory lock held while migrating
READ_THREADS = 4
POSTGRES_THREADS = 12  # within SQLAlchemy's default pool of 5 + 10 overflow

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the one writer; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes started together (`serve` and `worker`s) migrate one after the other.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_thread_role = threading.local()


def _mark_reader() -> None:
    _thread_role.reader = True


class Database:
    """One engine; `transaction()` is one database transaction."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # SQLite: one writer at a time in this process, request or background thread.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._readers: ThreadPoolExecutor | None = None
        self._writer: ThreadPoolExecutor | None = None

    @contextmanager
    def transaction(self, *, write: bool | None = None) -> Iterator[Connection]:
        """A transaction; it writes unless it runs in the read pool (or `write` says)."""
        if write is None:
            write = not getattr(_thread_role, "reader", False)
        lock = self._write_lock if write else None
        with lock or contextlib.nullcontext(), self.engine.begin() as connection:
            yield connection

    async def run(self, work: Callable[[], T], *, write: bool) -> T:
        """`work()` in a database thread: the writer for writes on SQLite, the pool otherwise."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(write), work)

    def _executor(self, write: bool) -> ThreadPoolExecutor:
        if self._readers is None:
            threads = READ_THREADS if self.is_sqlite else POSTGRES_THREADS
            self._readers = ThreadPoolExecutor(
                threads, thread_name_prefix="ten99-reader", initializer=_mark_reader
            )
            self._writer = (
                ThreadPoolExecutor(1, thread_name_prefix="ten99-writer")
                if self.is_sqlite
                else ThreadPoolExecutor(threads, thread_name_prefix="ten99-db")
            )
        return self._writer if write else self._readers

    def dispose(self) -> None:
        for pool in {self._readers, self._writer} - {None}:
            pool.shutdown(wait=True)
        self._readers = self._writer = None
        self.engine.dispose()
