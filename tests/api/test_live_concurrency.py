"""Real concurrency against the real server under uvicorn: many connections at once, and
several worker processes sharing PostgreSQL and Redis. Concurrency is what the databases do
differently (locks, isolation), so every test runs on both; those on one shared server take a
key of a new account each."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, select

from server.middleware.rate_limit import REDIS_CLIENT_PREFIX
from server.store.tables import emails
from tests import postgres
from tests.conftest import bearer, new_contractor, new_entity, new_job
from tests.live import LiveServer, running_server

pytestmark = [pytest.mark.storage, pytest.mark.live]

REDIS_URL = os.environ.get("TEN99_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


async def _burst(base_url: str, count: int, request) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(request(client) for _ in range(count)))


def _assert_one_object_from_50_posts(server: LiveServer, key: str) -> None:
    headers = bearer(key, **{"Ten99Policy-Idempotent-Key": "burst-1"})
    body = new_contractor()

    responses = asyncio.run(
        _burst(server.base_url, 50, lambda c: c.post("/contractors", json=body, headers=headers))
    )

    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert created, "the first request must complete"
    assert len({r.content for r in created}) == 1, "every 201 is the first response"
    in_progress = [r for r in responses if r.status_code == 409]
    # Those that find the first still running are told so (409); on SQLite requests run one
    # at a time on the event loop, so every later one is a replay of the first instead.
    assert all(r.json()["error_code"] == "idempotency" for r in in_progress)

    retry = httpx.post(f"{server.base_url}/contractors", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.content == created[0].content
    assert retry.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    listed = httpx.get(f"{server.base_url}/contractors", params={"limit": 100}, headers=bearer(key))
    assert [c["id"] for c in listed.json()] == [created[0].json()["id"]]


def test_50_concurrent_posts_with_one_key_create_one_object(live):
    _assert_one_object_from_50_posts(live, live.new_key())


def test_the_same_holds_across_two_worker_processes_on_postgresql(postgres_url):
    postgres.empty(postgres_url)
    with running_server(database_url=postgres_url, workers=2) as server:
        _assert_one_object_from_50_posts(server, server.api_key)


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return REDIS_URL


def _server_processes_on_redis(redis_url: str, after_id: int) -> int:
    """How many server processes opened Redis connections since client id `after_id`."""
    clients = redis.Redis.from_url(redis_url).client_list()
    return len(
        {
            c["name"]
            for c in clients
            if int(c["id"]) > after_id and c["name"].startswith(REDIS_CLIENT_PREFIX)
        }
    )


def test_two_workers_share_one_rate_limit_budget_in_redis(postgres_url, redis_url):
    first_new_id = redis.Redis.from_url(redis_url).client_id()
    env = {"TEN99_REDIS_URL": redis_url, "TEN99_RATE_LIMIT": "10/minute"}
    statuses: list[int] = []
    limited = []
    postgres.empty(postgres_url)
    with running_server(database_url=postgres_url, workers=2, env=env) as server:
        headers = bearer(server.api_key)
        # New connections for every request, until both workers have consulted Redis (on a
        # busy machine one process may take every connection of several bursts).
        for _ in range(50):
            responses = asyncio.run(
                _burst(server.base_url, 30, lambda c: c.get("/contractors", headers=headers))
            )
            statuses += [r.status_code for r in responses]
            limited += [r for r in responses if r.status_code == 429]
            if _server_processes_on_redis(redis_url, first_new_id) >= 2:
                break
        assert _server_processes_on_redis(redis_url, first_new_id) >= 2, (
            "both workers served requests"
        )
    assert statuses.count(200) == 10, "one budget of 10 for the key, not one per worker"
    assert statuses.count(429) == len(statuses) - 10, Counter(statuses)
    assert limited[0].json()["error_code"] == "rate_limit"
    assert 1 <= int(limited[0].headers["Retry-After"]) <= 60


def test_a_double_clicked_accept_is_one_success(live):
    """Eight Accepts of one session at once, as a contractor double-clicking (or a browser
    retrying) sends them: one policy, and every one answered with the way back to the
    platform, none with an error page."""
    success = "https://platform.example/done"
    with httpx.Client(base_url=live.base_url, headers=bearer(live.new_key()), timeout=30) as api:
        entity = api.post("/entities", json=new_entity()).json()["id"]
        contractor = api.post("/contractors", json=new_contractor()).json()["id"]
        job = api.post("/jobs", json=new_job(entity)).json()["id"]
        body = {"contractor": contractor, "job": job, "coverage_type": ["general"]}
        quote = api.post("/quotes", json=body).json()["id"]
        session = api.post("/apply/sessions", json={"quote": quote, "success_url": success})
        page = session.json()["url"]

        responses = asyncio.run(
            _burst(live.base_url, 8, lambda c: c.post(page + "/accept", follow_redirects=False))
        )

        answers = [(r.status_code, r.headers.get("location")) for r in responses]
        assert answers == [(303, success)] * 8, [
            r.text[:300] for r in responses if r.status_code != 303
        ]
        assert len(api.get("/policies").json()) == 1


def _bound_assignment(api: httpx.Client) -> dict:
    """Through the API: a contractor with a general liability policy, assigned to a second job
    of the entity (so bound to that policy)."""
    entity = api.post("/entities", json=new_entity()).json()["id"]
    contractor = api.post("/contractors", json=new_contractor()).json()["id"]
    job = api.post("/jobs", json=new_job(entity)).json()["id"]
    quote = api.post(
        "/quotes", json={"contractor": contractor, "job": job, "coverage_type": ["general"]}
    ).json()["id"]
    api.post("/policies", json={"quote": quote}).raise_for_status()
    second = api.post("/jobs", json=new_job(entity, name="Night shift")).json()["id"]
    body = {"contractor": contractor, "job": second, "coverage_type": ["general"]}
    assignment = api.post("/assignments", json=body).json()
    assert assignment["bind"], assignment
    return assignment


def _settled(api: httpx.Client, assignment_id: str, timeout: float = 60) -> dict:
    """The assignment once the server's worker has regenerated its certificates."""
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/assignments/{assignment_id}").json()
        if not found["certificate_refresh_pending"] or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _events_once(api: httpx.Client, event_type: str, expected: int, timeout: float = 60) -> list:
    """The events of the type once `expected` have been recorded (or the timeout), and a moment
    after, so that one too many would show."""
    deadline = time.monotonic() + timeout
    params = {"type": event_type, "limit": 100}
    while len(api.get("/events", params=params).json()) < expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(1)
    return api.get("/events", params=params).json()


def _extend_all(api: httpx.Client, bodies: list[dict]) -> list[httpx.Response]:
    """The bodies sent to /assignments/extend at once, each on a connection of its own, with
    the key `api` sends."""

    async def run():
        limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=api.base_url, limits=limits, timeout=60, headers=api.headers
        ) as client:
            return await asyncio.gather(
                *(client.post("/assignments/extend", json=body) for body in bodies)
            )

    return asyncio.run(run())


def _api(live: LiveServer) -> httpx.Client:
    """A client of the live server with a key of a new account."""
    return httpx.Client(base_url=live.base_url, headers=bearer(live.new_key()), timeout=30)


def test_concurrent_extensions_take_turns_and_end_at_the_greatest_date(live):
    with _api(live) as api:
        assignment = _settled(api, _bound_assignment(api)["id"])
        ends = [assignment["end_date"] + hours * 3600 for hours in range(1, 17)]
        bodies = [
            {"job_id": assignment["job"], "end_date": end, "send_email": False} for end in ends
        ]

        responses = _extend_all(api, bodies)

        extended = [r for r in responses if r.status_code == 200]
        refused = [r.json()["error_code"] for r in responses if r.status_code != 200]
        assert extended and set(refused) <= {"cannot_shorten_coverage"}, refused
        final = _settled(api, assignment["id"])
        assert final["end_date"] == max(ends)
        policy = api.get(f"/policies/{final['policy']}").json()
        assert policy["expiration_date"] >= max(ends)
        # One assignment.extended per extension that happened, once the worker has run each
        # one's regeneration; the newest says the last end.
        events = _events_once(api, "assignment.extended", len(extended))
        assert len(events) == len(extended)
        assert events[0]["data"]["object"]["end_date"] == max(ends)


def test_the_same_new_end_date_sent_at_once_extends_and_emails_once(live):
    with _api(live) as api:
        assignment = _settled(api, _bound_assignment(api)["id"])
        body = {"job_id": assignment["job"], "end_date": assignment["end_date"] + 86400}

        responses = _extend_all(api, [body] * 16)

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [400] * 15
        assert {r.json()["error_code"] for r in responses if r.status_code == 400} == {
            "end_date_unchanged"
        }
        events = _events_once(api, "assignment.extended", 1)
        assert len(events) == 1
        engine = create_engine(live.database_url)
        about = select(func.count()).where(emails.c.about == assignment["id"])
        with engine.connect() as connection:
            assert connection.execute(about).scalar() == 1
        engine.dispose()


def test_concurrent_test_clocks_leave_one_clock_and_no_error(live):
    """A new clock replaces the sandbox's one; when two arrive together, one wins and the other
    is told to try again (400 test_clock_conflict), never a 500."""
    headers = bearer(live.new_key())
    at = int(time.time())
    responses = asyncio.run(
        _burst(
            live.base_url,
            16,
            lambda c: c.post("/test_clocks", json={"frozen_time": at}, headers=headers),
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 400}, statuses
    assert 201 in statuses
    refused = [r.json()["error_code"] for r in responses if r.status_code == 400]
    assert set(refused) <= {"test_clock_conflict"}, refused
    listed = httpx.get(f"{live.base_url}/test_clocks", headers=headers).json()
    assert len(listed) == 1
    assert listed[0]["id"] in {r.json()["id"] for r in responses if r.status_code == 201}
