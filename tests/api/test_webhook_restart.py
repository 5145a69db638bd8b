"""Webhook deliveries live in the database: those still pending when a server stops are made by
the next process, each object's events in creation order; `ten99-server worker` delivers beside
a server without a worker, and two such workers on PostgreSQL send each event once. Real
`ten99-server` processes, retrying after 1 second (TEN99_WEBHOOK_RETRY_SECONDS)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.store.db import Database
from server.store.tables import webhook_deliveries
from tests.conftest import new_contractor
from tests.live import running_server, stop
from tests.webhook_receiver import Receiver, by_object

API_KEY = "t9k_test_webhooks0123456789abcdef"
ENV = {"TEN99_API_KEY": API_KEY, "TEN99_WEBHOOK_RETRY_SECONDS": "1", "TEN99_LOG_LEVEL": "warning"}


# A restart is a rule, tested on SQLite (the claims it takes run on both databases in
# tests/api/test_webhook_delivery.py); worker processes side by side meet each other's locks,
# and run on both.
pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def receiver():
    with Receiver() as endpoint:
        yield endpoint


def _server(database_url: str, *, worker: bool):
    env = {**ENV, "TEN99_WORKER": "on" if worker else "off"}
    return running_server(database_url=database_url, env=env)


@contextmanager
def running_worker(database_url: str) -> Iterator[subprocess.Popen]:
    """`ten99-server worker` on the database, until the block ends (SIGTERM)."""
    # The receivers are on this machine; a worker of its own delivers to public addresses only
    # unless told otherwise.
    env = {
        **os.environ,
        **ENV,
        "TEN99_DATABASE_URL": database_url,
        "TEN99_WEBHOOK_TARGETS": "loopback",
    }
    with tempfile.TemporaryDirectory(prefix="ten99-worker-") as tmp:
        log = (Path(tmp) / "worker.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "worker"],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop(process, "ten99-server worker")
            log.close()


def _api(server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(API_KEY, ""), timeout=30)


def _ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def subscribe(api: httpx.Client, receiver: Receiver) -> dict:
    endpoint = _ok(
        api.post("/webhook_endpoints", json={"url": receiver.url, "enabled_events": ["*"]})
    )
    receiver.secret = endpoint["secret"]
    return endpoint


def make_events(api: httpx.Client) -> None:
    """Two contractors, each created then updated, the updates interleaved: five events."""
    first = _ok(api.post("/contractors", json=new_contractor()))
    second = _ok(api.post("/contractors", json=new_contractor(first_name="Ann")))
    _ok(api.put(f"/contractors/{first['id']}", json={"first_name": "Jo"}))
    _ok(api.put(f"/contractors/{second['id']}", json={"last_name": "Lee"}))
    _ok(api.put(f"/contractors/{first['id']}", json={"phone": "415-474-9000"}))


def events_by_object(api: httpx.Client) -> dict[str, list[str]]:
    """Every event id, grouped by the object it is about, in creation order."""
    return by_object(reversed(_ok(api.get("/events", params={"limit": 100}))))


def wait_for_every_event(receiver: Receiver, expected: dict[str, list[str]]) -> None:
    count = sum(len(ids) for ids in expected.values())
    receiver.wait_for(lambda: len(receiver.delivered) >= count, 45, f"{count} deliveries")


def delivery_rows(database_url: str) -> list:
    database = Database(database_url)
    try:
        with database.transaction() as session:
            return session.execute(
                select(webhook_deliveries.c.status, webhook_deliveries.c.attempts)
            ).all()
    finally:
        database.dispose()


def test_deliveries_pending_at_a_restart_are_made_in_order_by_the_next_server(
    database_url, receiver
):
    receiver.failures_left = 10**6  # the endpoint is down
    with _server(database_url, worker=True) as server:
        api = _api(server)
        subscribe(api, receiver)
        make_events(api)
        expected = events_by_object(api)
        # Each contractor's first event has failed; the later ones wait behind it.
        receiver.wait_for(lambda: len(receiver.receipts) >= 2, 30, "the first attempts")

    rows = delivery_rows(database_url)
    assert len(rows) == 5 and {row.status for row in rows} == {"pending"}
    assert receiver.delivered == []

    receiver.failures_left = 0  # the endpoint is back
    with _server(database_url, worker=True):
        wait_for_every_event(receiver, expected)
        assert by_object(receiver.delivered) == expected
    assert {row.status for row in delivery_rows(database_url)} == {"delivered"}
    assert not receiver.rejected


@pytest.mark.storage
def test_worker_processes_beside_a_server_without_one_deliver_each_event_once(
    database_url, receiver
):
    """`ten99-server worker` delivers, in order; on PostgreSQL two of them share the work."""
    receiver.failures_left = 1
    receiver.delay = 0.02  # two workers are then sending at the same time
    with ExitStack() as processes:
        for _ in range(2 if database_url.startswith("postgresql") else 1):
            processes.enter_context(running_worker(database_url))  # they start meanwhile
        api = _api(processes.enter_context(_server(database_url, worker=False)))
        subscribe(api, receiver)
        make_events(api)
        for n in range(6):
            _ok(api.post("/contractors", json=new_contractor(email=f"c{n}@example.com")))
        expected = events_by_object(api)
        wait_for_every_event(receiver, expected)
    assert by_object(receiver.delivered) == expected  # each event once, each object's in order
    assert len(receiver.receipts) == 11 + 1  # the failed attempt was retried
    attempts = sorted(len(row.attempts) for row in delivery_rows(database_url))
    assert attempts == [1] * 10 + [2]
