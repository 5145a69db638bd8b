"""The server's log, as an operator reads it: one JSON object per line with
TEN99_LOG_FORMAT=json, an access line per request naming its route template (never a
capability token), every line of a request carrying its request id, account and environment, a
500 with its traceback, and a line for each background task and webhook delivery attempt."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest

from server.domain import contractors
from tests.conftest import bearer, bind, underwrite
from tests.live import eventually, free_port, running_server

pytestmark = pytest.mark.live


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A live server logging JSON at info level, and the file it logs to."""
    log_path = tmp_path_factory.mktemp("logs") / "server.log"
    env = {"TEN99_LOG_FORMAT": "json", "TEN99_LOG_LEVEL": "info"}
    with running_server(env=env, log_path=log_path) as server:
        origin = server.base_url.removesuffix("/api/v1")
        with httpx.Client(base_url=origin, timeout=30) as client:
            yield server, client, log_path


def test_every_line_is_json_and_a_request_id_finds_the_access_line(logged):
    server, client, log_path = logged
    response = client.get("/api/v1/contractors", headers=bearer(server.api_key))
    request_id = response.headers["request-id"]
    lines = eventually(
        lambda: log_lines(log_path),
        lambda found: any(line.get("request_id") == request_id for line in found),
    )
    (access,) = [line for line in lines if line.get("request_id") == request_id]
    assert access["logger"] == "server.access"
    assert (access["method"], access["route"], access["status"]) == (
        "GET",
        "/api/v1/contractors",
        200,
    )
    assert isinstance(access["duration_ms"], float)
    assert (access["account"], access["environment"]) == ("acct_default", "sandbox")
    # Start-up lines, uvicorn's included, are in the same format.
    assert any(line["logger"].startswith("uvicorn") for line in lines)


def test_routes_are_templates_and_capabilities_never_reach_the_log(logged):
    server, client, log_path = logged
    token, session = secrets.token_urlsafe(32), "ias_" + secrets.token_hex(16)
    unknown = client.get("/api/v1/contractors/cn_notthere00", headers=bearer(server.api_key))
    assert unknown.status_code == 404
    assert client.get(f"/files/{token}").status_code == 404
    assert client.post(f"/apply/{session}/accept").status_code == 404
    ids = [unknown.headers["request-id"]]
    lines = eventually(
        lambda: log_lines(log_path),
        lambda found: sum(line.get("route", "").startswith("/apply") for line in found) >= 1,
    )
    routes = {line["route"] for line in lines if "route" in line}
    assert {"/api/v1/contractors/{contractor_id}", "/files/{token}"} <= routes
    assert "/apply/{session_id}/accept" in routes
    text = log_path.read_text()
    assert token not in text and session not in text and "cn_notthere00" not in text
    assert any(line.get("request_id") in ids for line in lines)


def test_background_work_logs_each_task_and_delivery_attempt(logged):
    server, client, log_path = logged
    closed = f"http://127.0.0.1:{free_port()}/hooks"
    endpoint = client.post(
        "/api/v1/webhook_endpoints",
        json={"url": closed, "enabled_events": ["policy.created"]},
        headers=bearer(server.api_key),
    ).json()
    policy = bind(client, server.api_key, underwrite(client, server.api_key)["quote"]["id"])

    def logged_work(found):
        tasks = [line for line in found if line.get("task") == "issue_policy_document"]
        attempts = [line for line in found if line.get("delivery")]
        return tasks and attempts

    lines = eventually(lambda: log_lines(log_path), logged_work, timeout=30)
    task = next(line for line in lines if line.get("subject") == policy["id"])
    assert task["message"] == "task done"
    assert (task["account"], task["environment"]) == ("acct_default", "sandbox")
    attempt = next(line for line in lines if line.get("delivery"))
    assert attempt["level"] == "WARNING"
    assert attempt["url"] == closed and attempt["attempt"] == 1
    assert attempt["error"] and attempt["event"].startswith("evt_")
    assert endpoint["id"].startswith("we_")


def test_a_500_is_logged_with_its_request_id_and_traceback(
    client, sandbox_key, monkeypatch, caplog
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(contractors, "list_", broken)
    response = client.get("/api/v1/contractors", headers=bearer(sandbox_key))
    assert response.status_code == 500
    assert "fire" not in response.text
    (record,) = [r for r in caplog.records if r.exc_info and r.name == "server.errors"]
    assert record.request_id == response.headers["request-id"]
    assert (record.account, record.environment) == ("acct_a", "sandbox")
    assert "the disk is on fire" in caplog.text
