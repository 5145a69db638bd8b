"""The background worker: runs the queued tasks (certificate regeneration, email) and delivers
webhooks, in threads of each server process or of `ten99-server worker`. Both live in the
database, so work recorded before a crash or a restart is picked up by the next worker."""

from __future__ import annotations

import logging
import threading
import traceback

from server import delivery, mail
from server.config import Settings
from server.domain import assignments, clock, outbox, policies
from server.domain.clock import now
from server.store import idempotency, tasks
from server.store.db import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = 5  # seconds before the first retry; doubled each time
PURGE_EVERY_SECONDS = 10 * 60  # expired idempotency keys


def run_due(database: Database, settings: Settings) -> int:
    """Run every task that is due now, and re-issue the documents of policies that expired;
    returns how many tasks ran."""
    policies.reissue_expired_documents(database)
    outbound = outbox.Outbound(public_url=settings.public_url, smtp=bool(settings.smtp_url))
    ran = 0
    while True:
        task = None
        try:
            with database.transaction() as session:
                task = tasks.claim_due(session, now())
                if task is None:
                    return ran
                _run(session, task, settings, outbound)
                tasks.finish(session, task.seq, now())
        except Exception as error:
            if task is None:
                raise
            # The task's work was rolled back with its claim; count the attempt apart.
            log.warning("task %s %s failed: %s", task.kind, task.subject, error)
            with database.transaction() as session:
                _failed(session, task, traceback.format_exception_only(error)[-1].strip())
        ran += 1


def purge_expired_keys(database: Database) -> int:
    """Forget the idempotency keys whose 24 hours are over; returns how many."""
    with database.transaction() as session:
        purged = idempotency.purge_expired(session, clock.now())
    if purged:
        log.info("purged %d expired idempotency keys", purged)
    return purged


def _run(session, task: tasks.Task, settings: Settings, outbound: outbox.Outbound) -> None:
    if task.kind == assignments.REFRESH_CERTIFICATES:
        assignments.refresh_certificates(
            session, task.principal, task.subject, task.payload, outbound
        )
    elif task.kind == outbox.SEND_EMAIL:
        if settings.smtp_url:
            mail.send(session, task.subject, settings.smtp_url, settings.mail_from)
        else:  # SMTP was switched off since the email was queued: it stays readable
            mail.keep_recorded(session, task.subject)
    else:
        raise ValueError(f"unknown task kind {task.kind!r}")


def _failed(session, task: tasks.Task, error: str) -> None:
    attempts = task.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        tasks.finish(session, task.seq, now(), error=error)
        if task.kind == outbox.SEND_EMAIL:
            mail.give_up(session, task.subject, error)
    else:
        tasks.postpone(session, task.seq, now() + BACKOFF_BASE * 2 ** (attempts - 1), error)


class Worker:
    """The background work of one process, each kind polled in its own daemon thread until
    stopped: the task queue, and webhook deliveries (a slow endpoint then never delays a
    certificate)."""

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
        for thread in self._threads:
            thread.join(timeout=30)

    def wait(self) -> None:
        """Block until stopped (for `ten99-server worker`)."""
        while not self._stopping.wait(1):
            pass

    def _run_tasks(self) -> None:
        next_purge = 0

        def work() -> None:
            nonlocal next_purge
            run_due(self._database, self._settings)
            if now() >= next_purge:
                next_purge = now() + PURGE_EVERY_SECONDS
                purge_expired_keys(self._database)

        self._poll(work)

    def _deliver(self) -> None:
        with delivery.client() as client:
            self._poll(
                lambda: delivery.deliver_due(
                    self._database,
                    self._settings,
                    client,
                    keep_going=lambda: not self._stopping.is_set(),
                )
            )

    def _poll(self, work) -> None:
        while not self._stopping.is_set():
            try:
                work()
            except Exception:  # a database hiccup must not end the worker
                log.exception("the background worker failed; retrying")
            self._stopping.wait(self._interval)
