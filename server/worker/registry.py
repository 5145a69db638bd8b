"""The kinds of background task, and what runs each.

A task's runner does its slow part (rendering a PDF, talking to an SMTP server) outside any
transaction, from what it read in a unit of work of its own, and returns what to record: a
function of the unit of work in which the worker also marks the task done. Recording refuses
(`Stale`) when what the work was based on changed meanwhile; the task then runs again at once,
on the fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.core.links import file_path
from server.core.principals import Principal
from server.core.settings import Settings
from server.store.db import Database
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork

Record = Callable[[UnitOfWork], None]


class Stale(Exception):
    """What the task's work was based on changed before its result was recorded."""


class Unfinished(Exception):
    """The task did a slice of its work, and recorded it; it runs on after the tasks that came
    due meanwhile (a slice is not an attempt)."""


# Has a sandbox's due deliveries made, returning once some progress may have been made or
# after at most the seconds given: the worker's deliveries do it; `run_due` makes them itself.
Deliver = Callable[[Principal, float], None]


@dataclass(frozen=True)
class Context:
    """What background work knows of the deployment, and how it has deliveries made."""

    database: Database
    settings: Settings
    deliver: Deliver

    def file_url(self, token: str) -> str:
        """A link for an email: on TEN99_PUBLIC_URL, or a bare path without it."""
        return f"{self.settings.public_url or ''}{file_path(token)}"


@dataclass(frozen=True)
class TaskKind:
    run: Callable[[Context, ClaimedTask], Record | None]
    # Called in the unit of work that gives the task up, after its last failed attempt.
    give_up: Callable[[UnitOfWork, ClaimedTask, str], None] | None = None


KINDS: dict[str, TaskKind] = {}


def task_kind(name: str, *, give_up: Callable[[UnitOfWork, ClaimedTask, str], None] | None = None):
    """Register the decorated function as the runner of the tasks named `name`."""

    def register(run: Callable[[Context, ClaimedTask], Record | None]):
        KINDS[name] = TaskKind(run, give_up)
        return run

    return register
