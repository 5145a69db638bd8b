"""Idempotent POSTs: saved in the database, replayed exactly, scoped to account and environment."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, select

from server.core import clock
from server.core.principals import Environment
from server.domain import contractors as contractor_service
from server.middleware.idempotency import ABANDONED_AFTER_SECONDS, TTL_SECONDS, fingerprint
from server.store.tables import contractors, entities, idempotency_keys
from server.worker import purge_expired
from tests.conftest import assert_error, bearer, new_contractor, new_entity

# Saved responses are claimed (an insert that may meet the unique key, a savepoint), replayed
# and purged by statements whose errors and locks differ between the databases.
pytestmark = pytest.mark.storage

URL = "/api/v1/contractors"
KEY = "Ten99Policy-Idempotent-Key"


def post(client, api_key: str, body: dict, idempotency_key: str, header: str = KEY, url=URL):
    return client.post(url, json=body, headers=bearer(api_key, **{header: idempotency_key}))


def count(database, table) -> int:
    with database.transaction() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("header", [KEY, "Idempotency-Key"])
def test_a_retry_replays_the_first_response_exactly(client, sandbox_key, database, header):
    first = post(client, sandbox_key, new_contractor(), "k-1", header)
    assert first.status_code == 201
    assert "Ten99Policy-Idempotent-Replayed" not in first.headers
    retry = post(client, sandbox_key, new_contractor(), "k-1", header)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    assert retry.headers["request-id"] != first.headers["request-id"]
    assert count(database, contractors) == 1


def test_without_a_key_every_post_creates(client, sandbox_key, database):
    for _ in range(2):
        assert client.post(URL, json=new_contractor(), headers=bearer(sandbox_key)).status_code
    assert count(database, contractors) == 2


def test_the_same_key_with_a_different_body_is_400(client, sandbox_key, database):
    assert post(client, sandbox_key, new_contractor(), "k-2").status_code == 201
    reused = post(client, sandbox_key, new_contractor(first_name="Ann"), "k-2")
    assert reused.status_code == 400
    assert reused.json()["error_code"] == "idempotency"
    assert reused.json()["param"] == KEY
    assert count(database, contractors) == 1


def test_the_same_key_on_another_path_is_400_and_creates_nothing(client, sandbox_key, database):
    assert post(client, sandbox_key, new_contractor(), "k-path").status_code == 201
    reused = post(client, sandbox_key, new_entity(), "k-path", url="/api/v1/entities")
    assert_error(reused, 400, "idempotency")
    assert count(database, entities) == 0


def test_a_different_method_path_or_body_is_a_different_request():
    # Only one POST is implemented yet, so the path case is shown on the fingerprint itself.
    same = fingerprint("POST", URL, b"{}")
    assert fingerprint("POST", URL, b"{}") == same
    assert fingerprint("POST", "/api/v1/entities", b"{}") != same
    assert fingerprint("PUT", URL, b"{}") != same
    assert fingerprint("POST", URL, b'{"a": 1}') != same
    # The same JSON value is the same request, however it is spelled.
    assert fingerprint("POST", URL, b'{"a": 1, "b": [2]}') == fingerprint(
        "POST", URL, b'{ "b":[2],"a":1 }'
    )


def test_a_retry_with_the_keys_in_another_order_is_replayed(client, sandbox_key, database):
    body = new_contractor()
    first = _post_raw(client, sandbox_key, body, "k-order")
    reordered = dict(reversed(list(body.items())))
    retry = _post_raw(client, sandbox_key, reordered, "k-order")
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    assert count(database, contractors) == 1


def test_a_request_that_fails_validation_saves_nothing(client, sandbox_key, database):
    invalid = post(client, sandbox_key, new_contractor(email="not an email"), "k-4")
    assert invalid.status_code == 400
    assert count(database, idempotency_keys) == 0
    assert post(client, sandbox_key, new_contractor(), "k-4").status_code == 201


def test_keys_are_scoped_to_account_and_environment(client, new_key, database):
    keys = [
        new_key(Environment.SANDBOX, "acct_a"),
        new_key(Environment.SANDBOX, "acct_b"),
        new_key(Environment.PRODUCTION, "acct_a"),
    ]
    ids = {post(client, key, new_contractor(), "shared").json()["id"] for key in keys}
    assert len(ids) == 3
    assert count(database, contractors) == 3


def test_a_server_error_is_saved_and_replayed_as_documented(
    client, sandbox_key, database, monkeypatch
):
    """The documents: a retried key returns the first result "including 500 errors"; and the
    libraries, which retry a 5xx, are told that a retry would only replay it."""
    real_create = contractor_service.create

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(contractor_service, "create", real_create)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(contractor_service, "create", fail_once)
    first = post(client, sandbox_key, new_contractor(), "k-5")
    assert first.status_code == 500
    assert first.json()["error_code"] == "general"
    assert first.headers["Ten99Policy-Should-Retry"] == "false"

    retry = post(client, sandbox_key, new_contractor(), "k-5")
    assert retry.status_code == 500
    assert retry.content == first.content
    assert retry.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    assert retry.headers["Ten99Policy-Should-Retry"] == "false"
    assert count(database, contractors) == 0
    # A new key is a new request, and runs.
    assert post(client, sandbox_key, new_contractor(), "k-6").status_code == 201


def _hold_key(database, principal_account: str, key: str, body: dict, locked_at: int) -> None:
    request_hash = fingerprint("POST", URL, json.dumps(body).encode())
    with database.transaction() as session:
        session.execute(
            insert(idempotency_keys).values(
                account_id=principal_account,
                environment="sandbox",
                key=key,
                request_hash=request_hash,
                locked_at=locked_at,
                expires_at=locked_at + TTL_SECONDS,
            )
        )


def _post_raw(client, api_key: str, body: dict, idempotency_key: str):
    headers = bearer(api_key, **{KEY: idempotency_key, "Content-Type": "application/json"})
    return client.post(URL, content=json.dumps(body).encode(), headers=headers)


def test_a_retry_while_the_first_runs_is_409(client, sandbox_key, database):
    _hold_key(database, "acct_a", "k-6", new_contractor(), clock.now())
    running = _post_raw(client, sandbox_key, new_contractor(), "k-6")
    assert running.status_code == 409
    assert running.json()["error_code"] == "idempotency"
    assert count(database, contractors) == 0


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(client, sandbox_key, database):
    _hold_key(database, "acct_a", "k-7", new_contractor(), clock.now() - ABANDONED_AFTER_SECONDS)
    assert _post_raw(client, sandbox_key, new_contractor(), "k-7").status_code == 201


def test_keys_expire_after_24_hours_and_are_purged(client, sandbox_key, database, wall_clock):
    # Both keys saved at the same time, however the second turns meanwhile.
    assert post(client, sandbox_key, new_contractor(), "k-8").status_code == 201
    assert post(client, sandbox_key, new_contractor(), "k-9").status_code == 201

    wall_clock.move_by(TTL_SECONDS)
    # Expired: the key is free again, even for a different request.
    fresh = post(client, sandbox_key, new_contractor(first_name="Ann"), "k-8")
    assert fresh.status_code == 201
    assert "Ten99Policy-Idempotent-Replayed" not in fresh.headers
    # The background worker forgets the other expired key; requests purge nothing.
    with database.transaction() as session:
        stored = session.execute(select(idempotency_keys.c.key)).scalars().all()
    assert sorted(stored) == ["k-8", "k-9"]
    assert purge_expired(database) == 1
    with database.transaction() as session:
        left = session.execute(select(idempotency_keys.c.key)).scalars().all()
    assert left == ["k-8"], "k-9 expired and was purged"
