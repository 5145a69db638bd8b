"""SQLite's write-ahead log starts over after each checkpoint, however steady the writes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest

from server.store import db
from server.store.db import Database

WRITES = 300
STEADY_WRITES = 10_000
PAGE = 4096


def log_frames(path) -> int:
    """The frames in the log now, as a PASSIVE checkpoint reports them (it copies them into the
    database, but only a writer after a complete checkpoint starts the log over)."""
    with sqlite3.connect(path) as connection:
        _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return frames


@pytest.fixture
def database(tmp_path, monkeypatch):
    # The test checkpoints by hand: the background round must not run meanwhile.
    monkeypatch.setattr(db, "CHECKPOINT_SECONDS", 3600)
    database = Database(f"sqlite:///{tmp_path / 'log.db'}")
    with database.transaction() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body BLOB)")
    yield database
    database.dispose()


def write(database: Database, count: int) -> None:
    """As requests write: on the connection that never checkpoints by itself."""
    database._serves_requests()
    for _ in range(count):
        with database.transaction() as connection:
            connection.exec_driver_sql("INSERT INTO notes VALUES (zeroblob(4000))")


def test_the_log_starts_over_after_a_checkpoint(database, tmp_path):
    path = tmp_path / "log.db"
    write(database, WRITES)
    assert log_frames(path) >= WRITES  # requests leave the copying to the checkpoint

    database.checkpoint()
    write(database, 1)

    assert log_frames(path) < 10  # the next write started the log over
    with database.transaction(write=False) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM notes").scalar() == WRITES + 1


@pytest.mark.slow
def test_the_log_stays_small_under_steady_writes(database, tmp_path):
    """Each write keeps coming while the checkpoint copies: without starting the log over, it
    would hold every write's pages."""
    writer = threading.Thread(target=write, args=(database, STEADY_WRITES))
    writer.start()
    while writer.is_alive():
        database.checkpoint()
    writer.join()

    written = STEADY_WRITES * PAGE  # at least a page each
    assert (tmp_path / "log.db-wal").stat().st_size < written


def test_a_process_leaves_the_log_to_another_that_copied_it_lately(database, tmp_path):
    """Each of `serve`'s processes that writes checkpoints in the background, each holding every
    writer up: one finds when another last did (the writer lock file's time), and copies the
    log only once that is CHECKPOINT_SECONDS old."""
    path, lock = tmp_path / "log.db", tmp_path / "log.db-writer.lock"
    # Another Database on the file is another process, as far as the writer lock goes.
    other = Database(f"sqlite:///{path}")
    copies: list[bool] = []
    copy = other._checkpoint_on

    def counted(driver) -> None:
        copies.append(True)
        copy(driver)

    other._checkpoint_on = counted  # type: ignore[method-assign]
    try:
        database.checkpoint()
        other.checkpoint(unless_recent=True)
        assert copies == []  # `database` just did

        an_hour_ago = time.time() - 3600  # the fixture's CHECKPOINT_SECONDS
        os.utime(lock, (an_hour_ago, an_hour_ago))
        other.checkpoint(unless_recent=True)
        assert copies == [True]
        other.checkpoint(unless_recent=True)
        database.checkpoint(unless_recent=True)
        assert copies == [True]  # and neither copies it again so soon
    finally:
        other.dispose()
