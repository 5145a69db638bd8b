"""Sandbox snapshots and resets, in process on both databases: a sandbox saved and changed in
every way (objects made and deleted, the clock advanced, events, deliveries and queued work
made) is put back exactly by a restore; a reset empties it and keeps its keys and snapshots;
the limits refuse clearly; a live key and another account are refused."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from sqlalchemy import func, select

from server.core.principals import Environment
from server.store.tables import events_to_route, tasks, webhook_deliveries
from tests.conftest import (
    assert_error,
    bearer,
    bind,
    created,
    new_contractor,
    underwrite,
)

# A restore writes every table of the sandbox: statements that differ between the databases.
pytestmark = pytest.mark.storage

BASE = "/api/v1"
DAY = 86400
LISTED = ("contractors", "entities", "jobs", "quotes", "policies", "events", "webhook_endpoints")


def _ids(client, key: str, resource: str) -> list[str]:
    response = client.get(f"{BASE}/{resource}?limit=100", headers=bearer(key))
    assert response.status_code == 200, response.text
    return [found["id"] for found in response.json()]


def _sandbox(client, key: str) -> dict[str, list[str]]:
    """What the API lists of the sandbox, in order."""
    return {resource: _ids(client, key, resource) for resource in LISTED}


def _pending_work(database) -> tuple[int, int, int]:
    """Queued tasks not done, deliveries pending, events to route: the sandbox's queued work."""
    with database.transaction(write=False) as connection:
        return (
            connection.execute(
                select(func.count()).select_from(tasks).where(tasks.c.done_at.is_(None))
            ).scalar_one(),
            connection.execute(
                select(func.count())
                .select_from(webhook_deliveries)
                .where(webhook_deliveries.c.status == "pending")
            ).scalar_one(),
            connection.execute(select(func.count()).select_from(events_to_route)).scalar_one(),
        )


def snapshot(client, key: str, name: str = "start") -> dict:
    return created(
        client.post(f"{BASE}/sandbox/snapshots", json={"name": name}, headers=bearer(key))
    )


def restore(client, key: str, snapshot_id: str) -> dict:
    response = client.post(f"{BASE}/sandbox/snapshots/{snapshot_id}/restore", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_restore_puts_back_objects_clock_events_deliveries_and_queued_work(
    client, sandbox_key, sandbox_clock, database, run_tasks
):
    key = sandbox_key
    start = sandbox_clock.start()
    clock_id = sandbox_clock.clock["id"]
    endpoint = {"url": "https://receiver.example/hooks", "enabled_events": ["*"]}
    created(client.post(f"{BASE}/webhook_endpoints", json=endpoint, headers=bearer(key)))
    made = underwrite(client, key)
    bind(client, key, made["quote"]["id"])  # a policy document to render: a queued task
    client.route_events()  # deliveries made for the events so far
    created(client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(key)))
    before, work_before = _sandbox(client, key), _pending_work(database)
    assert all(work_before), work_before  # tasks, deliveries and events to route are queued

    saved = snapshot(client, key, "underwritten")
    assert saved["object"] == "snapshot" and saved["livemode"] is False
    assert saved["frozen_time"] == start and saved["size"] > 0
    assert saved["objects"] >= sum(map(len, before.values()))

    # Everything changes: a new contractor, one deleted, another clock, the queued work done.
    later = created(client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(key)))
    contractor = made["contractor"]["id"]
    assert client.delete(f"{BASE}/contractors/{contractor}", headers=bearer(key)).status_code == 200
    sandbox_clock.start(start + 40 * DAY)  # replaces the clock
    run_tasks()
    client.route_events()
    assert _sandbox(client, key) != before
    assert _pending_work(database) != work_before

    assert restore(client, key, saved["id"]) == saved
    assert _sandbox(client, key) == before
    assert _pending_work(database) == work_before
    clock = client.get(f"{BASE}/test_clocks", headers=bearer(key)).json()
    assert [(c["id"], c["frozen_time"]) for c in clock] == [(clock_id, start)]
    response = client.get(f"{BASE}/contractors/{later['id']}", headers=bearer(key))
    assert_error(response, 404, "resource_not_found")
    # The contractor deleted after the snapshot is back.
    assert client.get(f"{BASE}/contractors/{contractor}", headers=bearer(key)).status_code == 200
    # And a restore can be repeated: the snapshot stays.
    restore(client, key, saved["id"])
    assert _sandbox(client, key) == before


def test_a_reset_empties_the_sandbox_and_keeps_keys_and_snapshots(client, sandbox_key):
    key = sandbox_key
    underwrite(client, key)
    saved = snapshot(client, key)
    response = client.post(f"{BASE}/sandbox/reset", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "sandbox_reset"
    assert all(not ids for ids in _sandbox(client, key).values())
    assert _ids(client, key, "sandbox/snapshots") == [saved["id"]]
    restore(client, key, saved["id"])
    assert len(_ids(client, key, "contractors")) == 1


def test_snapshots_are_listed_retrieved_and_deleted(client, sandbox_key):
    key = sandbox_key
    first, second = snapshot(client, key, "first"), snapshot(client, key, "second")
    assert _ids(client, key, "sandbox/snapshots") == [second["id"], first["id"]]
    url = f"{BASE}/sandbox/snapshots/{first['id']}"
    assert client.get(url, headers=bearer(key)).json() == first
    deleted = client.delete(url, headers=bearer(key)).json()
    assert (deleted["id"], deleted["object"], deleted["deleted"]) == (first["id"], "snapshot", True)
    assert_error(client.get(url, headers=bearer(key)), 404, "resource_not_found", "snapshot_id")
    response = client.post(f"{url}/restore", headers=bearer(key))
    assert_error(response, 404, "resource_not_found", "snapshot_id")


def test_the_limits_refuse_clearly(client_with, sandbox_key, new_key):
    client = client_with(snapshots_per_sandbox=2)
    key = sandbox_key
    snapshot(client, key), snapshot(client, key)
    response = client.post(f"{BASE}/sandbox/snapshots", json={"name": "3"}, headers=bearer(key))
    assert "2" in assert_error(response, 400, "snapshot_limit_reached")["message"]

    small = client_with(snapshot_storage_mb=1)
    other = new_key(account="acct_big")
    # A sandbox whose snapshot is over a megabyte: an uploaded PDF that does not compress.
    contractor_id = underwrite(small, other)["contractor"]["id"]
    pdf = b"%PDF-1.4\n" + os.urandom(1024 * 1024)
    created(
        small.post(
            f"{BASE}/files/certificates",
            files={"certificate": ("certificate.pdf", pdf, "application/pdf")},
            data={"contractor": contractor_id},
            headers=bearer(other),
        )
    )
    response = small.post(f"{BASE}/sandbox/snapshots", json={"name": "x"}, headers=bearer(other))
    assert "1048576" in assert_error(response, 400, "snapshot_limit_reached")["message"]
    assert _ids(small, other, "sandbox/snapshots") == []


def test_a_live_key_and_another_account_are_refused(client, new_key, sandbox_key):
    live = new_key(Environment.PRODUCTION)
    for method, path in [
        ("GET", "/sandbox/snapshots"),
        ("POST", "/sandbox/reset"),
        ("GET", "/sandbox/snapshots/snap_x"),
        ("POST", "/sandbox/snapshots/snap_x/restore"),
        ("DELETE", "/sandbox/snapshots/snap_x"),
    ]:
        response = client.request(method, f"{BASE}{path}", headers=bearer(live))
        assert_error(response, 400, "sandbox_only")
    response = client.post(f"{BASE}/sandbox/snapshots", json={"name": "x"}, headers=bearer(live))
    assert_error(response, 400, "sandbox_only")

    mine = snapshot(client, sandbox_key)
    other = new_key(account="acct_b")
    theirs = created(
        client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(other))
    )
    response = client.post(f"{BASE}/sandbox/snapshots/{mine['id']}/restore", headers=bearer(other))
    assert_error(response, 404, "resource_not_found")
    client.post(f"{BASE}/sandbox/reset", headers=bearer(sandbox_key))
    assert _ids(client, other, "contractors") == [theirs["id"]]


def test_a_request_during_a_restore_sees_the_sandbox_before_or_after(live):
    """Restores back and forth between 50 contractors and 100, over real HTTP, while others
    list them: each list is one of the two, never a mix."""
    api = httpx.Client(base_url=live.base_url, auth=(live.new_key(), ""), timeout=30)

    def make(count: int) -> None:
        for _ in range(count):
            assert api.post("/contractors", json=new_contractor()).status_code == 201

    def listed() -> frozenset[str]:
        response = api.get("/contractors", params={"limit": 100})
        assert response.status_code == 200, response.text
        return frozenset(found["id"] for found in response.json())

    make(50)
    fewer = listed()
    smaller = api.post("/sandbox/snapshots", json={"name": "50"}).json()["id"]
    make(50)
    more = listed()
    larger = api.post("/sandbox/snapshots", json={"name": "100"}).json()["id"]
    seen: list[frozenset[str]] = []
    restoring = threading.Event()

    def read_while_restoring() -> None:
        while not restoring.is_set():
            seen.append(listed())

    readers = [threading.Thread(target=read_while_restoring) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for snapshot in [smaller, larger] * 5:
            response = api.post(f"/sandbox/snapshots/{snapshot}/restore")
            assert response.status_code == 200, response.text
    finally:
        restoring.set()
        for reader in readers:
            reader.join()
    assert seen and set(seen) <= {fewer, more}
    assert listed() == more
