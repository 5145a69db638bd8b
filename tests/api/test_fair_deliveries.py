"""Background work is shared fairly between accounts: one account's receivers that never answer
hold its share of the server's attempts in flight, and one account's clock advance its share of
the task threads; no other account's deliveries or documents wait for them."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest

from server.domain.terms import DAY
from server.domain.webhooks import TIMEOUT
from server.worker.webhooks import ACCOUNT_SHARE, CONCURRENCY
from tests.conftest import bearer, bind, created, new_contractor, underwrite
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.live


def _subscribe(http: httpx.Client, key: str, receiver: Receiver) -> str:
    body = {"url": receiver.url, "enabled_events": ["contractor.created"]}
    response = http.post("/webhook_endpoints", json=body, headers=bearer(key))
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return response.json()["id"]


def _contractor(http: httpx.Client, key: str) -> None:
    response = http.post("/contractors", json=new_contractor(), headers=bearer(key))
    assert response.status_code == 201, response.text


def test_a_receiver_that_never_answers_holds_up_no_other_accounts_delivery(live_server):
    stalled_key, prompt_key = live_server.new_key(), live_server.new_key()
    with (
        Receiver() as stalled,
        Receiver() as prompt,
        httpx.Client(base_url=live_server.base_url, timeout=30) as http,
    ):
        stalled.hold_limit = 2 * TIMEOUT  # past the attempt's deadline: never answered
        stalled.hold()
        stalled_endpoint = _subscribe(http, stalled_key, stalled)
        _subscribe(http, prompt_key, prompt)
        # More deliveries than a worker once had slots for (eight) and than its share.
        for _ in range(CONCURRENCY // 2):
            _contractor(http, stalled_key)
        stalled.wait_for(lambda: stalled.in_flight >= ACCOUNT_SHARE, what="the share in flight")

        started = time.monotonic()
        _contractor(http, prompt_key)
        # Well within an attempt's deadline: it did not wait for a stalled attempt.
        prompt.wait_for(lambda: prompt.delivered, timeout=2, what="the delivery")
        waited = time.monotonic() - started
        # Still held, and never more than the share at once (an attempt given up at its deadline
        # leaves the receiver's count when its connection closes, and its retry may follow).
        assert 0 < stalled.in_flight <= ACCOUNT_SHARE
        assert stalled.receipts == []
        # The shared server makes no more attempts at a receiver that is gone.
        http.delete(f"/webhook_endpoints/{stalled_endpoint}", headers=bearer(stalled_key))
    print(f"the other account's delivery arrived {waited:.2f} s after its event")


def test_an_advance_waiting_on_a_receiver_holds_up_no_other_accounts_document(live_server):
    advancing_key, other_key = live_server.new_key(), live_server.new_key()
    origin = live_server.base_url.removesuffix("/api/v1")
    with Receiver() as stalled, httpx.Client(base_url=origin, timeout=30) as http:
        stalled.hold_limit = 2 * TIMEOUT  # past the attempt's deadline: never answered
        stalled.hold()
        api = "/api/v1"
        body = {"url": stalled.url, "enabled_events": ["policy.expired"]}
        endpoint = created(
            http.post(f"{api}/webhook_endpoints", json=body, headers=bearer(advancing_key))
        )
        made = underwrite(http, advancing_key)
        bind(http, advancing_key, made["quote"]["id"])
        clock = created(
            http.post(
                f"{api}/test_clocks",
                json={"frozen_time": int(time.time())},
                headers=bearer(advancing_key),
            )
        )
        target = {"frozen_time": clock["frozen_time"] + 2 * 365 * DAY}
        url = f"{api}/test_clocks/{clock['id']}/advance"
        assert http.post(url, json=target, headers=bearer(advancing_key)).status_code == 200
        # The policy expires on the way: the advance's step sends policy.expired, and waits.
        stalled.wait_for(lambda: stalled.in_flight == 1, what="the advance's delivery")

        started = time.monotonic()
        theirs = bind(http, other_key, underwrite(http, other_key)["quote"]["id"])
        policy_url = f"{api}/policies/{theirs['id']}"
        while not http.get(policy_url, headers=bearer(other_key)).json()["pdf_url"]:
            assert time.monotonic() - started < 2, "the other account's document waited"
            time.sleep(0.05)
        waited = time.monotonic() - started
        clock_now = http.get(f"{api}/test_clocks/{clock['id']}", headers=bearer(advancing_key))
        assert clock_now.json()["status"] == "advancing"  # still held by its receiver
        # The shared server makes no more attempts at a receiver that is gone.
        http.delete(f"{api}/webhook_endpoints/{endpoint['id']}", headers=bearer(advancing_key))
    print(f"the other account's document was ready {waited:.2f} s after its policy")


def test_the_servers_deliveries_make_an_advancing_clocks_retries_on_its_schedule(live_server):
    """The advance waits at each moment for the worker's deliveries (not its own) to make the
    attempts due then: a receiver that always fails sees every retry at its sandbox time."""
    key = live_server.new_key()
    with Receiver() as failing, httpx.Client(base_url=live_server.base_url, timeout=30) as http:
        failing.failures_left = 10**6
        _subscribe(http, key, failing)
        clock = created(
            http.post("/test_clocks", json={"frozen_time": int(time.time())}, headers=bearer(key))
        )
        _contractor(http, key)
        target = {"frozen_time": clock["frozen_time"] + 4 * DAY}
        advance = http.post(f"/test_clocks/{clock['id']}/advance", json=target, headers=bearer(key))
        assert advance.status_code == 200, advance.text
        deadline = time.monotonic() + 30
        while (
            http.get(f"/test_clocks/{clock['id']}", headers=bearer(key)).json()["status"] != "ready"
        ):
            assert time.monotonic() < deadline, "the advance did not arrive"
            time.sleep(0.1)
        (endpoint,) = http.get("/webhook_endpoints", headers=bearer(key)).json()
        (delivery,) = http.get(
            f"/webhook_endpoints/{endpoint['id']}/deliveries", headers=bearer(key)
        ).json()
    times = [attempt["attempted_at"] for attempt in delivery["attempts"]]
    assert delivery["status"] == "failed"
    assert times[0] == clock["frozen_time"]
    assert [later - earlier for earlier, later in itertools.pairwise(times)][:3] == [30, 60, 120]
    assert len(failing.receipts) == len(times)
