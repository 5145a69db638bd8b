"""SIGTERM: `serve` closes its listener, answers the requests in flight, and stops its worker
within TEN99_SHUTDOWN_GRACE_SECONDS whatever it is doing, handing back what it could not finish;
nothing a client was told is done is lost, and nothing is done that a client was not told."""

from __future__ import annotations

import itertools
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from server.domain.clocks import ADVANCE
from server.domain.terms import DAY
from server.domain.webhooks import TIMEOUT
from server.store.db import Database
from server.store.tables import contractors, tasks, webhook_deliveries
from tests.conftest import bearer, bind, created, new_contractor, underwrite
from tests.live import running_server
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.live

API = "/api/v1"
GRACE = 2  # TEN99_SHUTDOWN_GRACE_SECONDS of these servers
# serve waits GRACE for its requests, then GRACE for its worker; a second for the rest.
BOUND = 2 * GRACE + 3


def _terminate(process) -> float:
    """SIGTERM, and the seconds until the process has ended."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return time.monotonic() - started


def test_a_write_load_loses_no_acknowledged_create_and_no_request_is_cut(tmp_path):
    url = f"sqlite:///{tmp_path / 'load.db'}"
    # No rate limit: four writers as fast as the server answers.
    env = {"TEN99_SHUTDOWN_GRACE_SECONDS": str(GRACE), "TEN99_RATE_LIMIT": "1000000/second"}
    acknowledged: list[str] = []
    unanswered: list[str] = []
    numbers = itertools.count()
    with running_server(database_url=url, env=env) as server:
        stopping = threading.Event()

        def write() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                refused = 0
                while refused < 3:
                    email = f"load{next(numbers)}@example.com"
                    try:
                        response = http.post(
                            "/contractors",
                            json=new_contractor(email=email),
                            headers=bearer(server.api_key),
                        )
                    except httpx.ConnectError:  # the listener is closed: nothing was sent
                        refused += 1
                        time.sleep(0.05)
                        continue
                    except httpx.TransportError:  # sent, and no answer came
                        unanswered.append(email)
                        continue
                    assert response.status_code == 201, response.text
                    acknowledged.append(email)
                    if stopping.is_set():
                        time.sleep(0.01)

        writers = [threading.Thread(target=write) for _ in range(4)]
        for writer in writers:
            writer.start()
        time.sleep(1.5)
        before = len(acknowledged)
        took = _terminate(server.process)
        stopping.set()
        for writer in writers:
            writer.join(timeout=30)
    assert before > 10, "the load was running when SIGTERM came"
    database = Database(url)
    try:
        with database.transaction(write=False) as connection:
            stored = set(connection.execute(select(contractors.c.email)).scalars())
    finally:
        database.dispose()
    assert set(acknowledged) <= stored, "an acknowledged create was lost"
    # A request the server took up was answered: no write is stored that its client never heard of.
    assert stored <= set(acknowledged), f"done but unanswered: {sorted(stored - set(acknowledged))}"
    assert took < BOUND
    print(
        f"{len(acknowledged)} creates acknowledged, {len(unanswered)} connections dropped "
        f"unread at the close; serve ended {took:.1f} s after SIGTERM"
    )


def test_a_worker_in_an_advance_waiting_on_a_receiver_stops_within_its_grace(tmp_path):
    url = f"sqlite:///{tmp_path / 'advance.db'}"
    env = {"TEN99_SHUTDOWN_GRACE_SECONDS": str(GRACE)}
    with Receiver() as stalled:
        stalled.hold_limit = 2 * TIMEOUT  # past the attempt's deadline: never answered
        stalled.hold()
        with running_server(database_url=url, env=env) as server:
            key = server.api_key
            origin = server.base_url.removesuffix("/api/v1")
            with httpx.Client(base_url=origin, timeout=30) as http:
                body = {"url": stalled.url, "enabled_events": ["policy.expired"]}
                endpoint = http.post(f"{API}/webhook_endpoints", json=body, headers=bearer(key))
                stalled.secret = created(endpoint)["secret"]
                bind(http, key, underwrite(http, key)["quote"]["id"])
                now = {"frozen_time": int(time.time())}
                clock = created(http.post(f"{API}/test_clocks", json=now, headers=bearer(key)))
                target = {"frozen_time": clock["frozen_time"] + 2 * 365 * DAY}
                advance = f"{API}/test_clocks/{clock['id']}/advance"
                assert http.post(advance, json=target, headers=bearer(key)).status_code == 200
                # The policy expires on the way: the advance sends policy.expired, and waits.
                stalled.wait_for(lambda: stalled.in_flight == 1, what="the advance's delivery")
                took = _terminate(server.process)
        assert took < BOUND, f"serve took {took:.1f} s to end"
        database = Database(url)
        try:
            with database.transaction(write=False) as connection:
                delivery = connection.execute(select(webhook_deliveries)).one()
                advancing = connection.execute(
                    select(tasks).where(tasks.c.kind == ADVANCE, tasks.c.done_at.is_(None))
                ).all()
        finally:
            database.dispose()
        # Handed back: the delivery free for the next worker at once, its cut attempt not
        # counted; the advance still to finish.
        assert (delivery.status, delivery.leased_until, delivery.attempts) == ("pending", None, [])
        assert len(advancing) == 1 and advancing[0].run_after <= time.time() + 1
        # The next server takes both up, and the advance arrives.
        stalled.release()
        with (
            running_server(database_url=url, env=env) as again,
            httpx.Client(base_url=again.base_url, timeout=30) as http,
        ):
            url_of_clock = f"/test_clocks/{clock['id']}"
            deadline = time.monotonic() + 30
            while http.get(url_of_clock, headers=bearer(key)).json()["status"] != "ready":
                assert time.monotonic() < deadline, "the advance did not resume"
                time.sleep(0.1)
        assert {event["type"] for event in stalled.delivered} == {"policy.expired"}
