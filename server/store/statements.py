"""How many statements and transactions a piece of work ran, counted while `counting()` is open.

With `TEN99_COUNT_STATEMENTS` on, each request is counted and its answer says how many (the bench
reports them per operation); otherwise counting costs a context variable's read per statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Counts:
    statements: int = 0
    transactions: int = 0  # explicit ones, which begin and commit: on PostgreSQL a round trip each


_CURRENT: ContextVar[Counts | None] = ContextVar("ten99_statement_counts", default=None)


@contextmanager
def counting() -> Iterator[Counts]:
    counts = Counts()
    token = _CURRENT.set(counts)
    try:
        yield counts
    finally:
        _CURRENT.reset(token)


def statement() -> None:
    counts = _CURRENT.get()
    if counts is not None:
        counts.statements += 1


def transaction() -> None:
    counts = _CURRENT.get()
    if counts is not None:
        counts.transactions += 1


def current() -> Counts | None:
    """What the running piece of work counts into, if it is counted."""
    return _CURRENT.get()


@contextmanager
def counted_by(counts: Counts | None) -> Iterator[None]:
    """Count into `counts` (another piece of work's, done here on its behalf)."""
    token = _CURRENT.set(counts)
    try:
        yield
    finally:
        _CURRENT.reset(token)


# Opens a span around each statement the store runs itself (store/prepared.py), where traces
# are sent (server/core/telemetry.py); SQLAlchemy's own statements are traced by its engine.
Tracer = Callable[[str, str], AbstractContextManager]
tracer: Tracer | None = None


def trace_with(statement_span: Tracer | None) -> None:
    """Trace each statement in `statement_span(sql, database system)`; None: trace none."""
    global tracer
    tracer = statement_span
