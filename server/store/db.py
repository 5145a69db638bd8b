"""Engine, transactions, and where database work runs (migrations: server/store/schema.py).

A request's database work runs on the event loop itself. On SQLite it runs inline: a statement
takes microseconds, and a hop to a thread costs more than the work (two Python threads hand the
GIL back and forth in slices of milliseconds). SQLite writes are serialised by one lock, held on
a file beside the database, which the worker process and the commands that write take too, and
which each holds only for short transactions (nothing is rendered or sent inside one).
On PostgreSQL it runs through asyncpg, in a greenlet (SQLAlchemy's bridge from synchronous code
to asyncio): the same store code, which waits on the loop for each statement's answer while
other requests go on, without threads. Background work and commands, outside the loop, use
psycopg.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from server.core import clock
from server.core.principals import Principal
from server.core.settings import Settings
from server.store import deferred, statements
from server.store.group_commit import GroupCommit, Handed
from server.store.server_work import ServerWork
from server.store.unit_of_work import UnitOfWork

# Background threads' connections (psycopg): the worker's task threads and its deliverer.
POSTGRES_POOL_SIZE = 12
# Requests' connections (asyncpg): one per unit of work in progress, at most as many as the
# settings' database_connections; past them, a request waits on the loop for one to come back.
# Up to half of them (at most POSTGRES_REQUEST_KEPT) stay open between units of work, kept
# checked out (`_KeptConnections`): the pool itself keeps one.
POSTGRES_REQUEST_KEPT = 24
# How often the log is copied into the database: often, as writes wait while it is, and a
# short log copies in a few milliseconds.
CHECKPOINT_SECONDS = 0.05
# How long a checkpoint waits for readers to leave the log, holding the writer lock (the next
# round tries again): short, as every write waits meanwhile.
CHECKPOINT_BUSY_MS = 5
SQLITE_BUSY_MS = 30_000  # how long a statement waits for another connection's lock
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # what the log file is cut back to when it starts over
SQLITE_MMAP_BYTES = 256 * 1024 * 1024

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _json_text(value) -> str:
    return orjson.dumps(value).decode()


# JSON columns (de)serialised by orjson, several times faster than the standard library's.
_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _count_statements(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
            **_JSON,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the one writer; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Pages read through a memory map rather than a system call each.
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
            # No commit copies the WAL into the database (which waits on the disk, holding the
            # writer lock): a thread of each writing process does, in the background.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        # A request's statements run SQLAlchemy's way, as its own (store/deferred.py).
        event.listen(engine, "before_execute", deferred.before_execute)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=10, **_JSON
    )


def make_request_engine(url: str, connections: int) -> AsyncEngine:
    """PostgreSQL through asyncpg, for requests: its `sync_engine` is used in a greenlet. No ping
    at checkout (a round trip per transaction): a connection found closed is dropped, and the
    next transaction opens a new one."""
    target = make_url(url)
    # asyncpg reads libpq's parameters (sslmode, sslrootcert, application_name, ...) from a DSN,
    # not from SQLAlchemy's URL; connect_timeout is its `timeout`.
    query = dict(target.query)
    timeout = query.pop("connect_timeout", None)
    dsn = target.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    options = {} if timeout is None else {"timeout": float(str(timeout))}

    async def connect():
        return await asyncpg.connect(dsn, **options)

    engine = create_async_engine(
        target.set(drivername="postgresql+asyncpg", query={}),
        async_creator=connect,
        pool_size=1,
        max_overflow=connections - 1,
        **_JSON,
    )
    _count_statements(engine.sync_engine)
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    event.listen(engine.sync_engine, "before_execute", deferred.before_execute)
    return engine


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection whose server went away (a restart, a terminated backend) is
    replaced at checkout, which then opens a new one: asyncpg knows without a round trip."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the connection was closed by the server")


class _KeptConnections:
    """Requests' connections on PostgreSQL, kept checked out between units of work on the
    event loop: a checkout, a new `Connection` and the reset at checkin cost several times a
    statement's own Python. Only the loop's thread uses them, so a list is enough."""

    def __init__(self, engine: Engine, keep: int):
        self._engine = engine
        self._keep = keep
        self._idle: list[Connection] = []

    @contextmanager
    def taken(self) -> Iterator[Connection]:
        connection = self._take()
        try:
            yield connection
        finally:
            if connection.invalidated or len(self._idle) >= self._keep:
                connection.close()  # back to the pool, which drops an invalidated one
            else:
                self._idle.append(connection)

    def _take(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            driver = connection.connection.driver_connection
            if driver is not None and not driver.is_closed():
                return connection
            # The server went away (a restart, a terminated backend): the pool opens another.
            connection.invalidate()
            connection.close()
        return self._engine.connect()

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


@contextmanager
def _autocommit(connection: Connection) -> Iterator[Any]:
    """The block's statements outside a transaction (asyncpg's adapter has the switch), until
    the block turns it off: a read needs none, nor the round trips that begin and end one (at
    READ COMMITTED each statement sees what was committed before it either way)."""
    driver = connection.connection.dbapi_connection
    assert driver is not None  # a connection in use has one
    driver.autocommit = True
    try:
        yield driver
    finally:
        driver.autocommit = False


# Set while a request's database work runs in its greenlet on the event loop (PostgreSQL).
_ON_LOOP: ContextVar[bool] = ContextVar("ten99_database_on_loop", default=False)


def _on_loop(work: Callable[[], T]) -> T:
    token = _ON_LOOP.set(True)  # the greenlet shares the request's context: set for the work only
    try:
        return work()
    finally:
        _ON_LOOP.reset(token)


def _count_statements(engine: Engine) -> None:
    """Statements SQLAlchemy runs (store/prepared.py counts its own)."""
    event.listen(engine, "before_cursor_execute", lambda *_args: statements.statement())


class _WriteLock:
    """SQLite's one writer at a time, among this process's threads and, through a lock on a
    file beside the database, among processes (`serve`, its worker and request-log processes):
    a checkpoint then never runs while another connection commits, in this process or another.

    The file's modification time is when a process last checkpointed the database: a process
    that writes copies the log only if no process did lately, rather than each on its own
    schedule, each holding every writer up."""

    def __init__(self, url: str):
        self._threads = threading.Lock()
        database = make_url(url).database
        self._file: int | None = None
        self._checkpointed_at = 0.0  # time.time(), where there is no file
        if database not in (None, "", ":memory:"):
            self._file = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._file is not None:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise

    def __exit__(self, *_exc: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()

    def checkpoint_recent(self) -> bool:
        """Whether a process checkpointed the database within CHECKPOINT_SECONDS (a clock set
        back counts as long ago)."""
        if self._file is not None:
            checkpointed_at = os.fstat(self._file).st_mtime
        else:
            checkpointed_at = self._checkpointed_at
        return 0 <= time.time() - checkpointed_at < CHECKPOINT_SECONDS

    def checkpointing(self) -> None:
        """Note, for every process, that this one checkpoints the database now."""
        if self._file is not None:
            os.utime(self._file)
        else:
            self._checkpointed_at = time.time()

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None


class _TakenOnce:
    """A lock taken at most once, when first asked for, and given back at the end."""

    def __init__(self, lock: _WriteLock):
        self._lock = lock
        self.taken = False

    def take(self) -> None:
        if not self.taken:
            self._lock.__enter__()
            self.taken = True

    def release(self) -> None:
        if self.taken:
            self.taken = False
            self._lock.__exit__()


class Database:
    """One engine; `transaction()` is one database transaction."""

    def __init__(
        self,
        url: str,
        *,
        checkpoints: bool = True,
        on_engine: Callable[[Engine], None] | None = None,
        request_connections: int = Settings.model_fields["database_connections"].default,
    ):
        """`checkpoints`: whether this process copies SQLite's log into the database; off in
        `serve`'s worker process, where the server's own process does it. `on_engine` is
        called with each engine made (to trace its statements). `request_connections`: the
        most that requests open at once, on PostgreSQL."""
        self.engine = make_engine(url)
        self._on_engine = on_engine
        if on_engine is not None:
            on_engine(self.engine)
        self._checkpoints = checkpoints
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # PostgreSQL: background reads need no transaction of their own (at READ COMMITTED each
        # statement sees what was committed before it either way), nor its two round trips.
        self._background_reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite: one writer at a time in this process, request or background thread.
        self._write_lock = _WriteLock(url) if self.is_sqlite else None
        # SQLite: requests' inserts, committed together after each turn of the event loop.
        self._group = GroupCommit(self._commit_handed) if self.is_sqlite else None
        self._url = url
        self._request_connections_most = request_connections
        # PostgreSQL: requests' engine, made by the first request, on the event loop it uses.
        self._requests: AsyncEngine | None = None
        self._requests_loop: asyncio.AbstractEventLoop | None = None
        self._request_connections: _KeptConnections | None = None
        # SQLite: the thread that serves requests (the event loop's) and the worker's scheduler
        # keep a connection: checking one out of the pool for every transaction costs more than
        # a short transaction itself. Other threads (which may come and go) check one out for
        # each transaction.
        self._local = threading.local()
        self._connections: set[Connection] = set()
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections_lock = threading.Lock()
        # Set when a unit of work that queued background work commits: the worker wakes.
        self.work_queued = threading.Event()
        # Set when a unit of work that published events commits: the deliverer wakes.
        self.events_published = threading.Event()
        # Set with either: the worker's scheduler wakes.
        self.work_ready = threading.Event()

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

    def _start_checkpoints(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint, name="ten99-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint(self) -> None:
        while not self._stopping.wait(CHECKPOINT_SECONDS):
            try:
                self.checkpoint(unless_recent=True)
            except Exception:  # a busy or closing database: the next round tries again
                logger.debug("WAL checkpoint failed", exc_info=True)

    def checkpoint(self, *, unless_recent: bool = False) -> None:
        """Copy SQLite's write-ahead log into the database, and have it start over (`unless_recent`:
        unless a process did within CHECKPOINT_SECONDS).

        A RESTART checkpoint copies every frame and waits for readers to leave the log, so that
        the next writer starts it over: without that, under steady writes some frames are always
        newer than the last checkpoint and the log grows for as long as the writes go on
        (hundreds of MB a minute). It holds the write lock: SQLite before 3.51.3
        (Debian 12 ships 3.40) can corrupt the database when a checkpoint runs while another
        connection commits (the WAL-reset bug, sqlite.org/wal.html#walresetbug), so checkpoints
        and writes take turns, in every process."""
        assert self._write_lock is not None  # only SQLite runs the PRAGMAs, and has one
        if unless_recent and self._write_lock.checkpoint_recent():
            return  # without waiting for the lock: looked at again under it
        with self.engine.connect() as connection, self._write_lock:
            if not (unless_recent and self._write_lock.checkpoint_recent()):
                self._checkpoint_on(connection.connection.dbapi_connection)

    def _checkpoint_on(self, driver) -> None:
        """A checkpoint on a SQLite connection outside a transaction, the write lock held.
        Another process's reader or writer is waited for only briefly: the next one tries
        again."""
        assert self._write_lock is not None  # SQLite has one
        self._write_lock.checkpointing()
        driver.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
        try:
            driver.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")

    def _release(self, connection: Connection) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
        connection.close()

    def keep_connection(self) -> None:
        """SQLite: this thread, which lives as long as the database and runs many short
        transactions (the worker's scheduler), keeps a connection between them."""
        self._local.keeps = self.is_sqlite

    def _serves_requests(self) -> None:
        """Mark this thread as one that serves requests, for as long as the database lives."""
        self._local.serves_requests = True

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        on_loop = _ON_LOOP.get()
        serves_requests = getattr(self._local, "serves_requests", False)
        if on_loop:
            with self._on_the_loop(write) as connection:
                yield connection
        elif serves_requests:  # SQLite
            assert self._group is not None  # SQLite has one
            self._group.write_owed()  # a request reads what it handed over before
            if write:
                with self._sqlite_request_writes() as connection:
                    yield connection
            else:
                connection = self._kept_connection()
                with connection.begin():
                    yield connection
        else:
            if write:
                statements.transaction()
            with self._write_lock if write and self._write_lock else contextlib.nullcontext():
                if write and self._write_lock is not None and self._checkpoints:
                    self._start_checkpoints()  # a process that writes keeps the log short
                with self._background_transaction(write) as connection:
                    yield connection

    @contextmanager
    def _background_transaction(self, write: bool) -> Iterator[Connection]:
        """On the thread's kept connection if it keeps one (and is not in a transaction on it
        already), else on one checked out for the transaction."""
        kept = self._kept_connection() if getattr(self._local, "keeps", False) else None
        if kept is not None and not kept.in_transaction():
            with kept.begin():
                yield kept
            return
        engine = self.engine if write or self.is_sqlite else self._background_reader
        with engine.begin() as connection:
            yield connection

    @contextmanager
    def _on_the_loop(self, write: bool) -> Iterator[Connection]:
        """PostgreSQL, a request's unit of work: outside a transaction (reads need none, and
        writes held back to the end are one statement, atomic alone) until a statement needs one
        (store/deferred.py)."""
        assert self._request_connections is not None  # `run` made them
        with (
            self._request_connections.taken() as connection,
            connection.begin(),
            _autocommit(connection) as driver,
            deferred.held_back(connection, begin=lambda: setattr(driver, "autocommit", False))
            if write
            else contextlib.nullcontext(),
        ):
            yield connection

    @contextmanager
    def _sqlite_request_writes(self) -> Iterator[Connection]:
        """SQLite, a request's unit of work that may write: its reads outside the writers' lock
        (each statement sees what was committed before it, as on PostgreSQL), the lock taken
        when it first writes. Inserts alone are held back to its end and handed over, to be
        committed with those of the other requests that end in the same turn of the event loop
        (store/group_commit.py). The worker's writes then never wait for a request's reads and
        rules, nor a request for theirs."""
        assert self._write_lock is not None and self._group is not None  # SQLite has them
        if self._checkpoints:
            self._start_checkpoints()  # a process that writes keeps the log short
        connection = self._kept_connection()
        lock = _TakenOnce(self._write_lock)
        try:
            with (
                connection.begin(),
                deferred.held_back(connection, begin=lock.take, hand_over=self._group.take),
            ):
                yield connection
            if lock.taken:
                self._checkpoint_if_due(connection)
        finally:
            lock.release()

    def _commit_handed(self, batch: list[Handed]) -> None:
        """Requests' inserts handed over, in one transaction (store/group_commit.py)."""
        assert self._write_lock is not None  # SQLite has one
        connection = self._kept_connection()
        with self._write_lock:
            with connection.begin():
                for handed in batch:
                    with statements.counted_by(handed.counts):
                        statements.transaction()
                        deferred.write_rows(connection, handed.rows)
            self._checkpoint_if_due(connection)

    def _checkpoint_if_due(self, connection: Connection) -> None:
        """After a commit, the write lock still held: the log copied if it is due. Here, rather
        than in the checkpoint thread: no wait for the interpreter between taking the write
        lock and giving it back."""
        assert self._write_lock is not None  # SQLite has one
        if self._checkpoints and not self._write_lock.checkpoint_recent():
            self._checkpoint_on(connection.connection.dbapi_connection)

    @contextmanager
    def unit_of_work(
        self, principal: Principal, *, write: bool = True, at: int | None = None
    ) -> Iterator[UnitOfWork]:
        """One unit of work of `principal`, committed at the end of the block (rolled back on
        an exception), with what it published and queued; at the sandbox's time, or `at`."""
        with self.transaction(write=write) as connection:
            work = UnitOfWork(connection, principal, clock.now, at=at)
            yield work
            queued, published = work.enqueued, work.published
            work.flush()
        if queued or published:
            announce = functools.partial(self._announce, queued=queued, published=published)
            if not (self._group and self._group.after_commit(announce)):
                announce()

    def _announce(self, *, queued: bool, published: bool) -> None:
        """Wake the worker for what a unit of work committed."""
        if queued:
            self.work_queued.set()
        if published:
            self.events_published.set()
        self.work_ready.set()

    @contextmanager
    def server_work(self, *, write: bool = True) -> Iterator[ServerWork]:
        """One transaction of the server's own work (for no caller), committed at the end of
        the block, rolled back on an exception."""
        with self.transaction(write=write) as connection:
            yield ServerWork(connection, clock.now)

    async def run(self, work: Callable[[], T]) -> T:
        """`work()`, the database work of a request, on the event loop: inline on SQLite, in a
        greenlet that waits on the loop for PostgreSQL's answers."""
        if self._group is not None:  # SQLite
            self._serves_requests()
            return await self._group.run(work)
        loop = asyncio.get_running_loop()
        if self._requests is None or self._requests_loop is not loop:
            # asyncpg's connections belong to the loop that opened them: a new loop (a test
            # client that runs each request in its own) opens its own. The old loop's kept
            # connections go back to their pool, which no I/O needs, as they did before.
            if self._request_connections is not None:
                await greenlet_spawn(self._request_connections.close)
            most = self._request_connections_most
            self._requests, self._requests_loop = make_request_engine(self._url, most), loop
            if self._on_engine is not None:
                self._on_engine(self._requests.sync_engine)
            self._request_connections = _KeptConnections(
                self._requests.sync_engine, min(POSTGRES_REQUEST_KEPT, max(1, most // 2))
            )
        return await greenlet_spawn(_on_loop, work)

    async def close_requests(self) -> None:
        """Close requests' connections, on the event loop they were opened on."""
        if self._requests is not None:
            assert self._request_connections is not None  # made with the engine
            await greenlet_spawn(self._request_connections.close)
            await self._requests.dispose()
            self._requests = self._request_connections = self._requests_loop = None

    def dispose(self) -> None:
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        with self._connections_lock:
            kept, self._connections = self._connections, set()
        for connection in kept:
            connection.close()
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()
