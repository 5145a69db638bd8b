"""The background worker: certificate regeneration and email, over real SMTP (aiosmtpd) or
recorded for `ten99-server mail list`; retries with backoff; one run per task even with two
workers; the worker thread the server starts."""

from __future__ import annotations

import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from server import worker
from server.cli import main
from server.core.principals import Environment, Principal
from server.domain.terms import DAY
from server.store.tables import emails, tasks
from server.worker import email as email_tasks
from server.worker import registry
from tests.api.test_assignments import assign, extend, get
from tests.conftest import bearer, bind, created, new_job, underwrite
from tests.live import free_port

# Tasks are claimed under leases and retried from the database: statements and locks that
# differ between the databases.
pytestmark = pytest.mark.storage


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def bound(client, sandbox_key, database, settings):
    made = underwrite(client, sandbox_key, quote={"coverage_type": ["general"]})
    bind(client, sandbox_key, made["quote"]["id"])
    job = created(
        client.post("/api/v1/jobs", json=new_job(made["entity"]["id"]), headers=bearer(sandbox_key))
    )
    assignment = created(assign(client, sandbox_key, made["contractor"]["id"], job["id"]))
    worker.run_due(database, settings)
    return get(client, sandbox_key, assignment["id"])


def _emails(database):
    with database.transaction() as session:
        return session.execute(select(emails)).all()


def test_the_extension_email_goes_out_over_smtp(
    client, sandbox_key, bound, database, settings, smtp_server
):
    controller, inbox = smtp_server
    with_smtp = settings.model_copy(update=dict(smtp_url=f"smtp://127.0.0.1:{controller.port}"))
    new_end = bound["end_date"] + 3 * DAY
    assert extend(client, sandbox_key, bound["job"], new_end).status_code == 200
    # The certificates, the lengthened policy's document, then the email.
    assert worker.run_due(database, with_smtp) == 3
    [message] = inbox.messages
    assert message.rcpt_tos == ["parker@gmail.com"]
    text = message.content.decode()
    assert "Subject: Your coverage for Field technician is extended to" in text
    fresh = get(client, sandbox_key, bound["id"])
    assert fresh["certificates"]["gl_coi_pdf_url"].removeprefix("http://testserver") in text
    [email] = _emails(database)
    assert email.status == "sent" and email.sent_at is not None


def test_an_unreachable_smtp_server_is_retried_with_backoff_then_given_up(
    client, sandbox_key, bound, database, settings, wall_clock
):
    broken = settings.model_copy(
        update=dict(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    )  # nothing listens
    assert extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY).status_code == 200
    worker.run_due(database, broken)
    waits = []
    for _ in range(worker.MAX_ATTEMPTS):
        with database.transaction() as session:
            task = session.execute(select(tasks).where(tasks.c.kind == "send_email")).one()
        if task.done_at is not None:
            break
        assert task.last_error  # the failure is recorded
        waits.append(task.run_after - wall_clock())
        assert worker.run_due(database, broken) == 0  # not due before its time
        wall_clock.move_to(task.run_after)
        worker.run_due(database, broken)
    assert waits == [worker.BACKOFF_BASE * 2**n for n in range(worker.MAX_ATTEMPTS - 1)]
    [email] = _emails(database)
    assert email.status == "failed" and email.last_error


def test_without_smtp_the_email_is_recorded_and_listed(
    client, sandbox_key, bound, database, settings, capsys, monkeypatch
):
    new_end = bound["end_date"] + 2 * DAY
    assert extend(client, sandbox_key, bound["job"], new_end).status_code == 200
    worker.run_due(database, settings)
    monkeypatch.setenv("TEN99_DATABASE_URL", settings.database_url)
    assert main(["mail", "list"]) == 0
    out = capsys.readouterr().out
    assert "recorded" in out
    assert "To: parker@gmail.com" in out
    assert "Your insurance coverage for Field technician" in out
    link = get(client, sandbox_key, bound["id"])["certificates"]["gl_coi_pdf_url"]
    assert link.removeprefix("http://testserver") in out


def test_two_workers_run_each_task_once(client, sandbox_key, database, settings):
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])
    assert worker.run_due(database, settings) == 1  # the policy's document
    entity = made["entity"]["id"]
    for n in range(8):
        job = created(
            client.post(
                "/api/v1/jobs", json=new_job(entity, name=f"Job {n}"), headers=bearer(sandbox_key)
            )
        )
        # Within the policy's period, so that no assignment lengthens it (a task of its own).
        period = {key: made["quote"][key] for key in ("effective_date", "end_date")}
        created(assign(client, sandbox_key, made["contractor"]["id"], job["id"], **period))
    ran = []
    start = threading.Barrier(2)

    def work():
        start.wait()
        ran.append(worker.run_due(database, settings))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ran) == 8
    with database.transaction() as session:
        done = session.execute(select(tasks.c.attempts, tasks.c.done_at)).all()
    assert len(done) == 9 and all(row.attempts == 1 and row.done_at for row in done)


def test_the_servers_own_worker_regenerates_in_the_background(database_url, sandbox_key):
    from server.app import create_app
    from server.core.settings import Settings

    app = create_app(Settings(database_url=database_url, validate_responses=True, worker=True))
    with app.test_client() as client:
        made = underwrite(client, sandbox_key)
        bind(client, sandbox_key, made["quote"]["id"])
        assignment = created(
            assign(client, sandbox_key, made["contractor"]["id"], made["job"]["id"])
        )
        deadline = time.monotonic() + 20
        while get(client, sandbox_key, assignment["id"])["certificate_refresh_pending"]:
            assert time.monotonic() < deadline, "the worker never regenerated the certificates"
            time.sleep(0.1)
        assert "gl_coi_pdf_url" in get(client, sandbox_key, assignment["id"])["certificates"]


def test_an_email_queued_for_smtp_stays_readable_when_smtp_is_switched_off(
    client, sandbox_key, bound, database, settings, monkeypatch, wall_clock
):
    with_smtp = settings.model_copy(update=dict(smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    assert extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY).status_code == 200
    # The regeneration queues the email for SMTP; the first attempt to send it fails.
    with monkeypatch.context() as patched:
        patched.setitem(registry.KINDS, email_tasks.SEND_EMAIL, registry.TaskKind(_not_now))
        worker.run_due(database, with_smtp)
    [email] = _emails(database)
    assert email.status == "pending"
    # The server restarts without SMTP; at the retry, the email is kept as a recorded one.
    wall_clock.move_by(worker.BACKOFF_BASE)
    assert worker.run_due(database, settings) == 1
    [email] = _emails(database)
    assert email.status == "recorded"


def _not_now(context, task):
    raise RuntimeError("not now")


def test_a_running_task_keeps_its_lease_past_the_lease_and_a_dead_ones_lapses(
    database, settings, sandbox_key, wall_clock, monkeypatch
):
    """A task's lease is short (a worker that died lets its work go soon) and renewed while
    the task runs (a long one is not taken over by another worker)."""
    monkeypatch.setattr(worker, "RENEW_EVERY_SECONDS", 0.05)
    taken_over: list[object] = []

    def long_task(context, task):
        wall_clock.reach(wall_clock() + 2 * settings.task_lease_seconds)
        renewed_to = wall_clock() + settings.task_lease_seconds
        deadline = time.monotonic() + 10
        while _lease_of(database, task.seq) < renewed_to:  # the keeper renews on the new time
            assert time.monotonic() < deadline, "the lease was not renewed"
            time.sleep(0.01)
        with database.server_work() as work:
            taken_over.append(work.tasks.claim_due(wall_clock(), settings.task_lease_seconds))
        return None

    monkeypatch.setitem(registry.KINDS, "long", registry.TaskKind(long_task))
    principal = Principal("acct_a", Environment.SANDBOX)
    with database.server_work() as work:
        work.tasks.enqueue(principal, "long", "subject", {}, wall_clock())
    assert worker.run_due(database, settings) == 1
    assert taken_over == [None]

    # A worker that claimed it and died: past its lease, the next worker takes it.
    with database.server_work() as work:
        work.tasks.enqueue(principal, "long", "other", {}, wall_clock())
        dead = work.tasks.claim_due(wall_clock(), settings.task_lease_seconds)
    assert dead is not None
    lapses = _lease_of(database, dead.seq)
    with database.server_work(write=False) as work:  # what the worker reads before it claims
        assert not work.tasks.any_due(lapses - 1)
        assert work.tasks.any_due(lapses)
        assert not work.tasks.any_due(lapses, skipping=[principal.account_id])
    with database.server_work() as work:
        assert work.tasks.claim_due(lapses - 1, 1) is None
        retaken = work.tasks.claim_due(lapses, 1)
    assert retaken is not None and retaken.seq == dead.seq


def _lease_of(database, seq: int) -> int:
    with database.transaction() as connection:
        query = select(tasks.c.run_after).where(tasks.c.seq == seq)
        return connection.execute(query).scalar_one()
