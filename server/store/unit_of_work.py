"""The unit of work: one transaction of one caller, the repositories that work in it, and what
it writes when it commits (the events of its changes, the background tasks they need).

Domain functions receive it and never see a connection or a transaction: they read and write
through its repositories, read the time of the work from `now` (one reading for all of it: of
the sandbox's test clock if it has one, else of the wall clock), `publish` changes and
`enqueue` work. Whoever opens it (a handler, the worker) decides
where it ends: `Database.unit_of_work` commits it, or rolls it back on an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from server.core.lazy import lazy
from server.core.principals import Environment, Principal
from server.store import events
from server.store.application_sessions import ApplicationSessionRepository
from server.store.assignments import AssignmentRepository
from server.store.clocks import TestClockRepository, frozen_time
from server.store.contractors import CONTRACTORS
from server.store.deliveries import DeliveryQueue
from server.store.documents import Documents
from server.store.emails import EMAILS
from server.store.entities import ENTITIES
from server.store.events import Change, EventRepository
from server.store.invoices import InvoiceRepository
from server.store.job_categories import JobCategories
from server.store.jobs import JOBS
from server.store.parties import Parties
from server.store.policies import PolicyRepository
from server.store.quotes import QUOTES
from server.store.records import Records, Repository
from server.store.request_logs import RequestLogRepository
from server.store.sandboxes import SandboxState, SnapshotRepository
from server.store.tasks import TaskQueue
from server.store.uploaded_certificates import UploadedCertificateRepository
from server.store.webhooks import EndpointRepository


@dataclass(frozen=True)
class Task:
    kind: str
    subject: str  # the id of the object the work is for
    payload: dict[str, Any] = field(default_factory=dict)


def _repository(kind: type, records: Records | None = None) -> lazy:
    """A repository of the unit of work's caller, made when first used: most requests need one
    or two."""
    return lazy(lambda work: kind(work._connection, work.principal, records))


class UnitOfWork:
    contractors = _repository(Repository, CONTRACTORS)
    entities = _repository(Repository, ENTITIES)
    jobs = _repository(Repository, JOBS)
    quotes = _repository(Repository, QUOTES)
    emails = _repository(Repository, EMAILS)
    policies = _repository(PolicyRepository)
    assignments = _repository(AssignmentRepository)
    application_sessions = _repository(ApplicationSessionRepository)
    events = _repository(EventRepository)
    webhook_endpoints = _repository(EndpointRepository)
    invoices = _repository(InvoiceRepository)
    test_clocks = _repository(TestClockRepository)
    uploaded_certificates = _repository(UploadedCertificateRepository)
    snapshots = _repository(SnapshotRepository)
    request_logs = lazy(lambda work: RequestLogRepository(work._connection, work.principal))

    def __init__(
        self,
        connection: Connection,
        principal: Principal,
        wall: Callable[[], int],
        *,
        at: int | None = None,  # the time of the work, when it is not now (sandbox tools)
    ):
        self.principal = principal
        self._wall = wall
        if at is not None:
            self.now = at
        self._connection = connection
        self._changes: list[Change] = []
        self._tasks: list[Task] = []
        self._done_tasks: list[int] = []
        self._work_replaced = False

    @property
    def live(self) -> bool:
        """Whether this is production's work (a live key's), not a sandbox's: what the API
        shows as `livemode`."""
        return self.principal.environment is Environment.PRODUCTION

    @lazy
    def now(self) -> int:
        """The time of this work, read when first needed (many reads never need it), or along
        with the first statement that reads the clock too (`parties`)."""
        sandbox = self.principal.environment is Environment.SANDBOX
        return self._time_on(frozen_time(self._connection, self.principal) if sandbox else None)

    def _time_on(self, frozen: int | None) -> int:
        """The time of this work, given the sandbox's test clock's (None: no clock)."""
        if frozen is not None and self.principal.environment is Environment.SANDBOX:
            return frozen
        return self.wall()

    def _clock_read(self, frozen: int | None) -> None:
        if "now" not in vars(self):  # the work's time, once set, stays
            self.now = self._time_on(frozen)

    def wall(self) -> int:
        """The wall clock's time, whatever the sandbox's."""
        return self._wall()

    @lazy
    def parties(self) -> Parties:
        return Parties(self._connection, self.principal, self._clock_read)

    @lazy
    def sandbox(self) -> SandboxState:
        return SandboxState(self._connection, self.principal)

    def replaced_work(self) -> None:
        """The sandbox's queued work and unrouted events were replaced (a restore): the worker
        is to look again once this unit of work has committed."""
        self._work_replaced = True

    @lazy
    def job_categories(self) -> JobCategories:
        return JobCategories(self._connection)

    @lazy
    def deliveries(self) -> DeliveryQueue:
        return DeliveryQueue(self._connection)

    @lazy
    def documents(self) -> Documents:
        return Documents(self._connection, self.principal)

    def publish(self, event_type: str, object_kind: str, record: dict[str, Any]) -> None:
        """Report a change: the record of the object right after it."""
        self._changes.append(Change(event_type, object_kind, record))

    def enqueue(self, task: Task) -> None:
        """Queue background work, to run once this unit of work has committed."""
        self._tasks.append(task)

    def complete_task(self, seq: int) -> None:
        """Mark a queued task done, with the result this unit of work records."""
        self._done_tasks.append(seq)

    @property
    def enqueued(self) -> bool:
        return bool(self._tasks) or self._work_replaced

    @property
    def published(self) -> bool:
        return bool(self._changes) or self._work_replaced

    def flush(self) -> None:
        """Write what was published and enqueued, in this transaction."""
        if self._changes:
            events.write(self._connection, self.principal, self._changes, self.now)
        queue = TaskQueue(self._connection)
        # Tasks are the server's own work, due on the wall clock whatever the sandbox's time.
        for task in self._tasks:
            queue.enqueue(self.principal, task.kind, task.subject, task.payload, self.wall())
        for seq in self._done_tasks:
            queue.finish(seq, self.wall())
        self._changes, self._tasks, self._done_tasks = [], [], []
