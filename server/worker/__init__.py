"""The background worker: runs the queued tasks (policy documents, certificates, email, test
clock advances), announces expiries, purges expired idempotency keys and delivers webhooks: in
the process `serve` forks beside its server processes, or in `ten99-server worker`. Tasks and
deliveries live in the database, so work recorded before a crash or a restart is picked up by
the next worker.

The kinds of task are registered in server/worker/registry.py by the modules that run them.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from server.core import clock, logs, metrics
from server.core.heartbeat import Heartbeat
from server.core.principals import Principal
from server.core.settings import Settings
from server.domain import request_logs
from server.store.db import Database
from server.store.tasks import ClaimedTask
from server.worker import (
    cancellations,
    certificate_reviews,
    certificates,
    clocks,
    documents,
    email,
    expiries,
    webhooks,
)
from server.worker.registry import KINDS, Context, Stale, Unfinished

log = logging.getLogger(__name__)

# The modules that register the kinds of task the worker runs, when they are imported.
TASK_MODULES = (cancellations, certificate_reviews, certificates, clocks, documents, email)

MAX_ATTEMPTS = 8
BACKOFF_BASE = 5  # seconds before the first retry; doubled each time
# A task's worker holds it for TEN99_TASK_LEASE_SECONDS, renewed while the task runs: every
# third of that, and every RENEW_EVERY_SECONDS at most.
RENEW_EVERY_SECONDS = 10
PURGE_EVERY_SECONDS = 10 * 60  # expired idempotency keys, requests logged too long ago
ANNOUNCE_EVERY_SECONDS = 0.1  # at most, however often tasks end
TASK_THREADS = 4  # tasks running at once in a worker
TASK_SHARE = 2  # of them one account's at most
# A worker that stops waits this long for the work it runs (TEN99_SHUTDOWN_GRACE_SECONDS where
# a command stops it), then hands back what is left.
STOP_GRACE_SECONDS = 10
STOP_MARGIN_SECONDS = 2  # to record what ended and hand back the rest


def run_due(database: Database, settings: Settings, leases: _LeaseKeeper | None = None) -> int:
    """Announce the expiries that have come, and run every task that is due now, its lease
    renewed by `leases` (the worker's, which lasts as long as it does; else one for this call);
    returns how many tasks ran."""
    if leases is None:
        with _LeaseKeeper(database, settings.task_lease_seconds) as own:
            return run_due(database, settings, own)
    with _DeliveriesHere(database, settings) as deliver:
        context = Context(database, settings, deliver)
        expiries.announce_due(database)
        ran = 0
        while True:
            with database.server_work() as work:
                task = work.tasks.claim_due(work.wall(), settings.task_lease_seconds)
            if task is None:
                return ran
            with leases.holding(task):
                _run(context, task)
            ran += 1


class _DeliveriesHere:
    """`run_due`'s deliveries for the clocks it advances: made in the calling thread, on a
    sender opened at the first need."""

    def __init__(self, database: Database, settings: Settings):
        self._database, self._settings = database, settings
        self._sender: webhooks.Sender | None = None

    def __call__(self, principal: Principal, _timeout: float) -> None:
        if self._sender is None:
            self._sender = webhooks.client()
        webhooks.deliver_due(self._database, self._settings, self._sender, principal=principal)

    def __enter__(self) -> _DeliveriesHere:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._sender is not None:
            self._sender.close()


class _LeaseKeeper:
    """Renews the leases of the tasks running, from a thread of its own, so that a lease can be
    short and a long task (a clock's advance, a slow SMTP server) keep it all the same."""

    def __init__(self, database: Database, lease_seconds: int):
        self._database = database
        self._lease_seconds = lease_seconds
        self._running: dict[int, ClaimedTask] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="ten99-leases", daemon=True)

    @contextmanager
    def holding(self, task: ClaimedTask) -> Iterator[None]:
        with self._lock:
            self._running[task.seq] = task
        try:
            yield
        finally:
            with self._lock:
                del self._running[task.seq]

    def _renew(self) -> None:
        while not self._stopping.wait(min(RENEW_EVERY_SECONDS, self._lease_seconds / 3)):
            with self._lock:
                running = list(self._running.values())
            if not running:
                continue
            try:
                with self._database.server_work() as work:
                    for task in running:
                        work.tasks.renew(task, work.wall() + self._lease_seconds)
            except Exception:  # the database is away: a lease may lapse, and that is safe
                log.warning("could not renew the leases of %d tasks", len(running), exc_info=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def __enter__(self) -> _LeaseKeeper:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _run(context: Context, task: ClaimedTask) -> None:
    """Run the task and record its result, marking it done in the same transaction; a failure
    is retried later, a stale result at once."""
    kind = KINDS.get(task.kind)
    principal = task.principal
    logs.bind(account=principal.account_id, environment=principal.environment.value)
    details = {"task": task.kind, "subject": task.subject, "attempt": task.attempts}
    started = time.perf_counter()
    try:
        if kind is None:
            raise ValueError(f"unknown task kind {task.kind!r}")
        record = kind.run(context, task)
        with context.database.unit_of_work(task.principal) as uow:
            if record is not None:
                record(uow)
            uow.complete_task(task.seq)
        details["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        log.info("task done", extra=details)
        metrics.task_done(task.kind, "done")
    except Unfinished:
        with context.database.server_work() as work:
            work.tasks.resume(task.seq, work.wall())
        log.info("task runs on after the tasks due meanwhile", extra=details)
        metrics.task_done(task.kind, "resumed")
    except Stale:
        with context.database.server_work() as work:
            work.tasks.postpone(task.seq, work.wall(), "stale: run again")
        log.info("task stale: its subject changed while it ran; it runs again", extra=details)
        metrics.task_done(task.kind, "stale")
    except Exception as error:
        summary = traceback.format_exception_only(error)[-1].strip()
        log.warning("task failed", exc_info=error, extra={**details, "error": summary})
        _failed(context, kind, task, summary)
    finally:
        logs.unbind()


def _failed(context: Context, kind, task: ClaimedTask, error: str) -> None:
    if task.attempts < MAX_ATTEMPTS:
        retry_at = clock.now() + BACKOFF_BASE * 2 ** (task.attempts - 1)
        with context.database.server_work() as work:
            work.tasks.postpone(task.seq, retry_at, error)
        metrics.task_done(task.kind, "failed")
        return
    metrics.task_done(task.kind, "given_up")
    with context.database.unit_of_work(task.principal) as uow:
        if kind is not None and kind.give_up is not None:
            kind.give_up(uow, task, error)
    with context.database.server_work() as work:
        work.tasks.finish(task.seq, work.wall(), error=error)


def purge_expired(database: Database) -> int:
    """Forget the idempotency keys whose 24 hours are over, and the requests logged before the
    request log's days; returns how many."""
    with database.server_work() as work:
        keys = work.idempotency_keys.purge_expired(work.wall())
        logged = work.purge_request_logs(work.wall() - request_logs.KEPT_SECONDS)
    if keys or logged:
        log.info("purged %d expired idempotency keys and %d logged requests", keys, logged)
    return keys + logged


class _Tasks:
    """The task queue as one kind of the worker's scheduled work: claimed while a thread is
    free, at most TASK_SHARE of one account's at once (an account's long task, an advance whose
    receivers never answer or a slow SMTP server, holds its share of the threads, never another
    account's), each run on a thread of the pool, its lease renewed meanwhile."""

    def __init__(self, context: Context, wake: Callable[[], None], interval: float):
        self._context = context
        database, settings = context.database, context.settings
        self._wake, self._interval = wake, interval
        self._running: dict[Future[None], ClaimedTask] = {}
        self._a_task_ended = False
        self._next_look = 0.0
        self._leases = _LeaseKeeper(database, settings.task_lease_seconds)
        self._leases.start()
        self._pool = ThreadPoolExecutor(TASK_THREADS, thread_name_prefix="ten99-task")

    def due_at(self, now: float) -> float:
        if len(self._running) >= TASK_THREADS and not self._a_task_ended:
            return math.inf  # the end of one wakes the scheduler
        if self._a_task_ended or self._context.database.work_queued.is_set():
            return now
        return self._next_look

    def step(self, now: float) -> None:
        self._context.database.work_queued.clear()
        self._a_task_ended = False
        for future in [future for future in self._running if future.done()]:
            del self._running[future]
        while len(self._running) < TASK_THREADS:
            task = self._claim()
            if task is None:
                break
            future = self._pool.submit(self._run_held, task)
            self._running[future] = task
            future.add_done_callback(self._ended)
        self._next_look = now + self._interval

    def _claim(self) -> ClaimedTask | None:
        busy = Counter(task.principal.account_id for task in self._running.values())
        full = [account for account, count in busy.items() if count >= TASK_SHARE]
        database = self._context.database
        with database.server_work(write=False) as work:  # the writers' lock only for a claim
            if not work.tasks.any_due(work.wall(), skipping=full):
                return None
        with database.server_work() as work:
            lease = self._context.settings.task_lease_seconds
            return work.tasks.claim_due(work.wall(), lease, skipping=full)

    def _run_held(self, task: ClaimedTask) -> None:
        with self._leases.holding(task):
            _run(self._context, task)

    def _ended(self, _future: Future[None]) -> None:
        self._a_task_ended = True
        self._wake()

    def stop(self, deadline: float = math.inf) -> None:
        """The tasks running end by `deadline` (time.monotonic()), or are handed back to the
        next worker, their threads left to end as they may."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        left = None if deadline == math.inf else max(0.0, deadline - time.monotonic())
        _done, unfinished = wait(self._running, timeout=left)
        self._leases.stop()
        if unfinished:
            with self._context.database.server_work() as work:
                for future in unfinished:
                    work.tasks.hand_back(self._running[future], work.wall())
            log.warning("stopping: %d tasks handed back unfinished", len(unfinished))


@dataclass
class _Every:
    """Work done every `seconds` (of `clock`): expiries announced, expired keys purged."""

    seconds: float
    work: Callable[[], object]
    clock: Callable[[], float] = time.monotonic
    _next: float = 0.0

    def due_at(self, now: float) -> float:
        return now + max(0.0, self._next - self.clock())

    def step(self, _now: float) -> None:
        self._next = self.clock() + self.seconds
        self.work()

    def stop(self, deadline: float = math.inf) -> None:
        pass


class Worker:
    """The background work of one process, until stopped: one scheduler thread runs every kind
    of due work (the task queue, webhook deliveries, expiries, purges) as each comes due,
    handing the slow parts to the kind's own runners (a pool of threads for tasks, the sender's
    event loop for deliveries), so that no kind holds up another. Work queued in this process
    wakes it at once; queued by another, it is found within `interval`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        interval: float = 0.5,
        heartbeat: Heartbeat | None = None,
    ):
        self._database = database
        self._settings = settings
        self._interval = interval
        self.heartbeat = heartbeat or Heartbeat()
        self._stopping = threading.Event()
        self._deadline: float | None = None  # of the stop, once asked
        self._thread = threading.Thread(target=self._schedule, name="ten99-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Take no more work, and give what runs `grace` seconds from now to end (from a signal
        handler: `stop` then waits for it). The deadline is set before the scheduler is woken,
        which reads it as it stops."""
        if self._deadline is None:
            self._deadline = time.monotonic() + grace
        self._stopping.set()
        self._database.work_ready.set()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Take no more work, and wait up to `grace` seconds for what runs: what has not ended
        then is handed back to the next worker (server/store's `hand_back`)."""
        self.request_stop(grace)
        if self._thread.is_alive():
            self._thread.join(timeout=grace + STOP_MARGIN_SECONDS)

    def wait(self, while_alive: int | None = None) -> None:
        """Block until asked to stop (for `ten99-server worker`), or until the process
        `while_alive` (this one's parent) is gone."""
        while not self._stopping.wait(0.2):
            if while_alive is not None and os.getppid() != while_alive:
                return

    def _schedule(self) -> None:
        self._database.keep_connection()
        wake = self._database.work_ready.set
        with webhooks.client() as client:
            deliveries = webhooks.Deliveries(
                self._database, self._settings, client, wake=wake, interval=self._interval
            )
            context = Context(self._database, self._settings, deliveries.make_for)
            kinds: list[_Kind] = [
                _Tasks(context, wake, self._interval),
                deliveries,
                _Every(ANNOUNCE_EVERY_SECONDS, lambda: expiries.announce_due(self._database)),
                _Every(PURGE_EVERY_SECONDS, lambda: purge_expired(self._database), clock.now),
            ]
            try:
                while not self._stopping.is_set():
                    self.heartbeat.beat()
                    self._database.work_ready.clear()
                    now = time.monotonic()
                    for kind in kinds:
                        if kind.due_at(now) <= now:
                            try:
                                kind.step(now)
                            except Exception:  # a database hiccup must not end the worker
                                log.exception("the background worker failed; retrying")
                    now = time.monotonic()
                    next_due = min(kind.due_at(now) for kind in kinds)
                    self._database.work_ready.wait(min(max(0.0, next_due - now), self._interval))
            finally:
                # Set by request_stop, which ends the loop; the default's, if the loop failed.
                deadline = self._deadline or time.monotonic() + STOP_GRACE_SECONDS
                for kind in kinds:
                    kind.stop(deadline)


class _Kind(Protocol):
    """A kind of due work the scheduler runs."""

    def due_at(self, now: float) -> float:
        """When, in time.monotonic(), its next step is due (`now` or earlier: due now)."""

    def step(self, now: float) -> None:
        """Record what ended, start what is due; never waits on the work itself."""

    def stop(self, deadline: float) -> None:
        """Wait until `deadline` for the work in progress, and record it; hand back the rest."""
