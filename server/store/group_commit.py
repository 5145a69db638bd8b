"""SQLite: the inserts of the requests whose units of work end in one turn of the event loop,
written in one transaction.

A request's unit of work holds its inserts back to its end (store/deferred.py). Committed one
request at a time, each commit writes every page it changed to the log (a contractor and its
event change eight: the table, its indexes, the event's), takes the writers' lock, and adds to
what the next checkpoint copies. Handed over here instead, the inserts of every request that
ends in the same turn are written after it, in one transaction that changes those pages once.
Each request answers only once its inserts are committed, or with the error that refused them:
a batch that fails is written again one request at a time, so that only the request whose rows
were refused fails. A request that runs another unit of work after handing its inserts over has
them written first: it reads what it wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from server.store import statements

T = TypeVar("T")


@dataclass
class Handed:
    """One request's inserts, and what it announces once they are committed."""

    rows: list[Any]  # store/deferred.py's rows, bound for the driver
    counts: statements.Counts | None  # the request's statement counts, if counted
    done: asyncio.Future[None]
    after_commit: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class _Run:
    """One `GroupCommit.run`: what it handed over and is not yet written."""

    handed: Handed | None = None


_RUN: ContextVar[_Run | None] = ContextVar("ten99_group_commit_run", default=None)


class GroupCommit:
    """`commit(batch)` writes and commits the batch's rows in one transaction, or raises and
    leaves nothing of it written."""

    def __init__(self, commit: Callable[[list[Handed]], None]):
        self._commit = commit
        self._batch: list[Handed] = []

    async def run(self, work: Callable[[], T]) -> T:
        """`work()`, whose units of work may hand their inserts over; returns once they are
        committed (raises what refused them)."""
        run = _Run()
        token = _RUN.set(run)
        try:
            result = work()
        except BaseException:
            if run.handed is not None:  # written all the same; its outcome is not this error
                run.handed.done.add_done_callback(_observed)
            raise
        finally:
            _RUN.reset(token)
        if run.handed is not None:
            await run.handed.done
        return result

    def take(self, rows: list[Any]) -> bool:
        """Take a unit of work's held inserts, to write after this turn of the loop; False
        outside `run` (the caller writes them)."""
        run = _RUN.get()
        if run is None:
            return False
        if run.handed is None:  # the first since the run began, or since its last were written
            loop = asyncio.get_running_loop()
            if not self._batch:
                loop.call_soon(self.write)
            run.handed = Handed([], statements.current(), loop.create_future())
            self._batch.append(run.handed)
        run.handed.rows.extend(rows)
        return True

    def after_commit(self, announce: Callable[[], None]) -> bool:
        """Call `announce` once this run's handed inserts are committed; False if it handed
        none (the caller announces now)."""
        run = _RUN.get()
        if run is None or run.handed is None:
            return False
        run.handed.after_commit.append(announce)
        return True

    def write_owed(self) -> None:
        """Before a unit of work begins: what this run handed over before, written now (with
        the rest of the batch) if it is not yet; raises what refused it."""
        run = _RUN.get()
        if run is None or run.handed is None:
            return
        handed, run.handed = run.handed, None
        if not handed.done.done():
            self.write()
        handed.done.result()

    def write(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            self._commit(batch)
            outcomes: list[Exception | None] = [None] * len(batch)
        except Exception as refused:
            # One at a time, then: only the refused ones fail.
            outcomes = [refused] if len(batch) == 1 else [self._alone(h) for h in batch]
        for handed, error in zip(batch, outcomes, strict=True):
            _settle(handed, error)

    def _alone(self, handed: Handed) -> Exception | None:
        try:
            self._commit([handed])
        except Exception as refused:
            return refused
        return None


def _settle(handed: Handed, error: BaseException | None) -> None:
    if error is None:
        for announce in handed.after_commit:
            announce()
    if handed.done.done():  # its request was cancelled; its rows are written all the same
        return
    if error is None:
        handed.done.set_result(None)
    else:
        handed.done.set_exception(error)


def _observed(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
