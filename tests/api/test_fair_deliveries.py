"""Webhook deliveries are shared fairly between accounts: one account's receivers that never
answer hold its share of the server's attempts in flight, and no other account's deliveries
wait for them."""

from __future__ import annotations

import time

import httpx
import pytest

from server.domain.webhooks import TIMEOUT
from server.worker.webhooks import ACCOUNT_SHARE, CONCURRENCY
from tests.conftest import bearer, new_contractor
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
        stalled.wait_for(lambda: stalled.in_flight == ACCOUNT_SHARE, what="the share in flight")

        started = time.monotonic()
        _contractor(http, prompt_key)
        # Within an attempt's deadline: had it waited for a stalled attempt, it would not be.
        prompt.wait_for(lambda: prompt.delivered, timeout=TIMEOUT - 2, what="the delivery")
        waited = time.monotonic() - started
        assert stalled.in_flight == ACCOUNT_SHARE  # still held, and never more than the share
        assert stalled.receipts == []
        # The shared server makes no more attempts at a receiver that is gone.
        http.delete(f"/webhook_endpoints/{stalled_endpoint}", headers=bearer(stalled_key))
    print(f"the other account's delivery arrived {waited:.2f} s after its event")
