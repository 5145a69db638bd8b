"""The background worker: runs the queued tasks (policy documents, certificates, email, test
clock advances), announces expiries, purges expired idempotency keys and delivers webhooks: in
the process `serve` forks beside its server processes, or in `ten99-server worker`. Tasks and
deliveries live in the database, so work recorded before a crash or a restart is picked up by
the next worker.

The kinds of task are registered in server/worker/registry.py by the modules that run them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from server import logs
from server.config import Settings
from server.core import clock
from server.store.db import Database
from server.store.tasks import ClaimedTask
from server.worker import certificates, documents, email, expiries, test_clocks, webhooks
from server.worker.registry import KINDS, Context, Stale, Unfinished

log = logging.getLogger(__name__)

# The modules that register the kinds of task the worker runs, when they are imported.
TASK_MODULES = (certificates, documents, email, test_clocks)

MAX_ATTEMPTS = 8
BACKOFF_BASE = 5  # seconds before the first retry; doubled each time
# A task's worker holds it for TEN99_TASK_LEASE_SECONDS, renewed while the task runs: every
# third of that, and every RENEW_EVERY_SECONDS at most.
RENEW_EVERY_SECONDS = 10
PURGE_EVERY_SECONDS = 10 * 60  # expired idempotency keys
ANNOUNCE_EVERY_SECONDS = 0.1  # at most, however often tasks end
TASK_THREADS = 4  # tasks running at once in a worker
TASK_SHARE = 2  # of them one account's at most
EVENTS_GATHER_SECONDS = 0.05  # new events gathered before the deliverer routes them


def run_due(database: Database, settings: Settings, leases: _LeaseKeeper | None = None) -> int:
    """Announce the expiries that have come, and run every task that is due now, its lease
    renewed by `leases` (the worker's, which lasts as long as it does; else one for this call);
    returns how many tasks ran."""
    if leases is None:
        with _LeaseKeeper(database, settings.task_lease_seconds) as own:
            return run_due(database, settings, own)
    context = Context(database, settings)
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

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._thread.join()


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
    except Unfinished:
        with context.database.server_work() as work:
            work.tasks.resume(task.seq, work.wall())
        log.info("task runs on after the tasks due meanwhile", extra=details)
    except Stale:
        with context.database.server_work() as work:
            work.tasks.postpone(task.seq, work.wall(), "stale: run again")
        log.info("task stale: its subject changed while it ran; it runs again", extra=details)
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
        return
    with context.database.unit_of_work(task.principal) as uow:
        if kind is not None and kind.give_up is not None:
            kind.give_up(uow, task, error)
    with context.database.server_work() as work:
        work.tasks.finish(task.seq, work.wall(), error=error)


def purge_expired_keys(database: Database) -> int:
    """Forget the idempotency keys whose 24 hours are over; returns how many."""
    with database.server_work() as work:
        purged = work.idempotency_keys.purge_expired(work.wall())
    if purged:
        log.info("purged %d expired idempotency keys", purged)
    return purged


class Worker:
    """The background work of one process, until stopped: the task queue (TASK_THREADS at
    once, TASK_SHARE of them one account's) and webhook deliveries, each kind claimed by a
    daemon thread of its own (a slow endpoint then never delays a certificate). Work queued in
    this process wakes them at once; queued by another, within `interval`."""

    def __init__(self, database: Database, settings: Settings, interval: float = 0.5):
        self._database = database
        self._settings = settings
        self._interval = interval
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_tasks, name="ten99-tasks", daemon=True),
            threading.Thread(target=self._deliver, name="ten99-webhooks", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._database.work_queued.set()
        self._database.events_published.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def wait(self, while_alive: int | None = None) -> None:
        """Block until stopped (for `ten99-server worker`), or until the process `while_alive`
        (this one's parent) is gone."""
        while not self._stopping.wait(1):
            if while_alive is not None and os.getppid() != while_alive:
                return

    def _run_tasks(self) -> None:
        """Claim due tasks while a thread is free, at most TASK_SHARE of one account's at once:
        an account's long task (an advance whose receivers never answer, a slow SMTP server)
        holds its share of the threads, never another account's."""
        context = Context(self._database, self._settings)
        running: dict[Future[None], ClaimedTask] = {}
        next_purge, next_announcement = 0, 0.0
        with (
            _LeaseKeeper(self._database, self._settings.task_lease_seconds) as leases,
            ThreadPoolExecutor(TASK_THREADS, thread_name_prefix="ten99-task") as pool,
        ):
            while not self._stopping.is_set():
                self._database.work_queued.clear()
                for future in [future for future in running if future.done()]:
                    del running[future]
                try:
                    if time.monotonic() >= next_announcement:
                        next_announcement = time.monotonic() + ANNOUNCE_EVERY_SECONDS
                        expiries.announce_due(self._database)
                    while len(running) < TASK_THREADS and not self._stopping.is_set():
                        task = self._claim(running.values())
                        if task is None:
                            break
                        future = pool.submit(self._run_held, context, leases, task)
                        future.add_done_callback(lambda _done: self._database.work_queued.set())
                        running[future] = task
                    if clock.now() >= next_purge:
                        next_purge = clock.now() + PURGE_EVERY_SECONDS
                        purge_expired_keys(self._database)
                except Exception:  # a database hiccup must not end the worker
                    log.exception("the background worker failed; retrying")
                self._database.work_queued.wait(self._interval)

    def _claim(self, running: Iterable[ClaimedTask]) -> ClaimedTask | None:
        busy = Counter(task.principal.account_id for task in running)
        full = [account for account, count in busy.items() if count >= TASK_SHARE]
        with self._database.server_work() as work:
            lease = self._settings.task_lease_seconds
            return work.tasks.claim_due(work.wall(), lease, skipping=full)

    @staticmethod
    def _run_held(context: Context, leases: _LeaseKeeper, task: ClaimedTask) -> None:
        with leases.holding(task):
            _run(context, task)

    def _deliver(self) -> None:
        with webhooks.client() as client:
            while not self._stopping.is_set():
                self._database.events_published.clear()
                try:
                    webhooks.deliver_due(
                        self._database,
                        self._settings,
                        client,
                        keep_going=lambda: not self._stopping.is_set(),
                    )
                except Exception:  # a database hiccup must not end the worker
                    log.exception("the webhook deliverer failed; retrying")
                # Woken by new events, after a moment: the events of that moment are routed
                # and claimed together, not one transaction each.
                if self._database.events_published.wait(self._interval):
                    self._stopping.wait(EVENTS_GATHER_SECONDS)
