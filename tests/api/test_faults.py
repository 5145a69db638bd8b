"""Faults on purpose over real HTTP, on both databases (what commits, and when, differs between
them): a request answered by no answer after its commit, which a retry with its idempotency key
gets replayed; a 500 that says to retry, with nothing kept; a wait; and the refusals, of a live
key and of a value that names no fault."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from server.core.principals import Environment
from tests.conftest import new_contractor

pytestmark = pytest.mark.storage

FAULT = "Ten99Policy-Test-Fault"


def _api(live, environment: Environment = Environment.SANDBOX) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, auth=(live.new_key(environment), ""), timeout=30)


def _contractor_ids(api: httpx.Client) -> list[str]:
    return [found["id"] for found in api.get("/contractors").json()]


def test_disconnect_after_commit_commits_and_a_retry_gets_the_replay(live):
    api = _api(live)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = new_contractor()
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/contractors", json=body, headers={**key, FAULT: "disconnect_after_commit"})
    committed = _contractor_ids(api)
    assert len(committed) == 1
    retried = api.post("/contractors", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    assert retried.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    assert retried.json()["id"] == committed[0]
    assert _contractor_ids(api) == committed
    # Without a key, a retry is a second request: the first was done all the same.
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/contractors", json=body, headers={FAULT: "disconnect_after_commit"})
    assert len(_contractor_ids(api)) == 2


def test_error_before_commit_keeps_nothing_and_says_to_retry(live):
    api = _api(live)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = new_contractor()
    failed = api.post("/contractors", json=body, headers={**key, FAULT: "error_before_commit"})
    assert failed.status_code == 500
    assert failed.headers["Ten99Policy-Should-Retry"] == "true"
    assert failed.json()["error_code"] == "general"
    assert _contractor_ids(api) == []
    events = api.get("/events").json()
    assert events == []
    # The retry runs anew: the failure was not saved for the key.
    retried = api.post("/contractors", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    assert "Ten99Policy-Idempotent-Replayed" not in retried.headers
    assert _contractor_ids(api) == [retried.json()["id"]]
    # A request refused before the commit is refused as always.
    refused = api.post("/contractors", json={}, headers={FAULT: "error_before_commit"})
    assert refused.status_code == 400
    missing = api.get("/contractors/cn_0Missing", headers={FAULT: "error_before_commit"})
    assert missing.status_code == 404


def test_latency_waits_first(live):
    api = _api(live)
    started = time.monotonic()
    response = api.get("/contractors", headers={FAULT: "latency=400"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_a_live_key_and_values_that_name_no_fault_are_refused(live):
    refused = _api(live, Environment.PRODUCTION).get("/contractors", headers={FAULT: "latency=1"})
    assert refused.status_code == 400
    assert (refused.json()["error_code"], refused.json()["param"]) == ("sandbox_only", FAULT)
    api = _api(live)
    for value in ("latency=10001", "latency", "latency=-1", "boom", "disconnect"):
        response = api.get("/contractors", headers={FAULT: value})
        assert response.status_code == 400, value
        assert response.json()["error_code"] == "invalid_input"
