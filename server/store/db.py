"""Engine, transactions, migrations, and where database work runs.

On SQLite a request's work runs on the event loop itself: a statement takes microseconds, and a
hop to a thread costs more than the work (two Python threads hand the GIL back and forth in
slices of milliseconds). Writes are serialised by one lock, which the background threads that
write take too, and which they hold only for short transactions (nothing is rendered or sent
inside one). On PostgreSQL, whose statements wait on the network, the work runs in a pool of
threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

from server.core import clock
from server.core.principals import Principal
from server.store.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 1099_0001  # the PostgreSQL advisory lock held while migrating
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


class Database:
    """One engine; `transaction()` is one database transaction."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # SQLite: one writer at a time in this process, request or background thread.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._pool: ThreadPoolExecutor | None = None
        # The threads that serve requests keep a connection each: checking one out of the pool
        # for every transaction costs more than a short transaction itself. Other threads
        # (background work, which may come and go) check one out for each transaction.
        self._local = threading.local()
        self._connections: set[Connection] = set()
        self._connections_lock = threading.Lock()
        # Set when a unit of work that queued background work commits: the worker wakes.
        self.work_queued = threading.Event()

    def _kept_connection(self) -> Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect()
            self._local.connection = connection
            with self._connections_lock:
                self._connections.add(connection)
            # Back to the pool when the thread is gone.
            weakref.finalize(threading.current_thread(), self._release, connection)
        return connection

    def _release(self, connection: Connection) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
        connection.close()

    def _serves_requests(self) -> None:
        """Mark this thread as one that serves requests, for as long as the database lives."""
        self._local.serves_requests = True

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        lock = self._write_lock if write else None
        with lock or contextlib.nullcontext():
            if getattr(self._local, "serves_requests", False):
                connection = self._kept_connection()
                with connection.begin():
                    yield connection
            else:
                with self.engine.begin() as connection:
                    yield connection

    @contextmanager
    def unit_of_work(self, principal: Principal, *, write: bool = True) -> Iterator[UnitOfWork]:
        """One unit of work of `principal`, committed at the end of the block (rolled back on
        an exception), with what it published and queued."""
        with self.transaction(write=write) as connection:
            work = UnitOfWork(connection, principal, clock.now())
            yield work
            queued = work.enqueued
            work.flush()
        if queued:
            self.work_queued.set()

    async def run(self, work: Callable[[], T], *, write: bool) -> T:
        """`work()`, the database work of a request: inline on SQLite, in a thread otherwise."""
        if self.is_sqlite:
            self._serves_requests()
            return work()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                POSTGRES_THREADS, thread_name_prefix="ten99-db", initializer=self._serves_requests
            )
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    def dispose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._connections_lock:
            kept, self._connections = self._connections, set()
        for connection in kept:
            connection.close()
        self.engine.dispose()
