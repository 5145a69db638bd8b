"""/healthz, /readyz and /metrics: what an orchestrator and a scraper ask, outside /api/v1 and
its keys."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from server.store.db import Database
from server.web import operator
from tests.conftest import bearer, bind, created, new_contractor, underwrite


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_health_and_readiness_need_no_key_and_say_so_in_json(client):
    alive = client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert ready.headers["cache-control"] == "no-store"
    assert ready.headers["request-id"].startswith("req_")


def test_metrics_count_requests_by_route_template_never_by_path(client, sandbox_key):
    contractor = created(
        client.post("/api/v1/contractors", json=new_contractor(), headers=bearer(sandbox_key))
    )
    for _ in range(2):
        client.get(f"/api/v1/contractors/{contractor['id']}", headers=bearer(sandbox_key))
    client.get("/api/v1/contractors/cn_nobodyatall", headers=bearer(sandbox_key))
    client.get("/no/such/path/cn_secret")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)
    template = "/api/v1/contractors/{contractor_id}"

    def requests(status: str) -> tuple:
        labels = (("method", "GET"), ("route", template), ("status", status))
        return ("ten99_http_requests_total", labels)

    ok, missing = requests("200"), requests("404")
    assert found[ok] >= 2
    assert found[missing] >= 1
    unmatched = [key for key in found if ("route", "unmatched") in key[1]]
    assert unmatched, "a path no route serves is counted as unmatched"
    # No id, path or key in any label.
    assert contractor["id"] not in response.text
    assert "cn_secret" not in response.text and sandbox_key not in response.text
    latency = (
        "ten99_http_request_duration_seconds_count",
        (("method", "GET"), ("route", template)),
    )
    assert found[latency] >= 3
    # The queue's gauges, read from the database: every kind of task, and deliveries.
    assert found[("ten99_database_up", ())] == 1
    kinds = {dict(labels)["kind"] for name, labels in found if name == "ten99_worker_lag_seconds"}
    assert {"webhook_delivery", "issue_policy_document"} <= kinds


def test_queued_work_shows_as_due_until_a_worker_runs_it(client, sandbox_key, run_tasks):
    bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])  # a document to make
    due = samples(client.get("/metrics").text)
    key = ("ten99_work_items", (("kind", "issue_policy_document"), ("state", "due")))
    assert due[key] >= 1
    run_tasks()
    assert samples(client.get("/metrics").text)[key] == 0


def test_readyz_is_503_with_why_when_the_schema_is_behind(client, database):
    with database.transaction() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    try:
        stale = client.get("/readyz")
        assert stale.status_code == 503
        assert stale.json()["status"] == "unavailable"
        assert re.search(
            r"revision 0001; this server needs revision \d+", stale.json()["problems"][0]
        )
        assert client.get("/healthz").status_code == 200
    finally:
        with database.transaction() as connection:
            from server.store import schema

            connection.exec_driver_sql(
                f"UPDATE alembic_version SET version_num = '{schema.head()}'"
            )


def test_a_stuck_scheduler_makes_a_process_unready(settings):
    database = Database(settings.database_url)
    try:
        probes = operator.Probes(database, scheduler_age=lambda: 31.0)
        status, body, _ = probes.answer(operator.READY, probes.read(operator.READY))
        assert status == 503
        assert b"has not gone round for 31 s" in body
        going = operator.Probes(database, scheduler_age=lambda: 0.2)
        assert going.answer(operator.READY, going.read(operator.READY))[0] == 200
    finally:
        database.dispose()
