"""The regeneration an extend asks for survives a restart: it is recorded in the database
before the response, and the next server process picks it up."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import new_contractor, new_entity, new_job
from tests.live import running_server

DAY = 86400
API_KEY = "t9k_test_restart0123456789abcdef"


# The next process finds what the last one recorded: a rule, tested on SQLite. The statements it
# takes (the queue, leases) run on both databases in tests/api/test_background_work.py.
pytestmark = [pytest.mark.live, pytest.mark.slow]


def _server(database_url: str, *, worker: bool):
    env = {"TEN99_API_KEY": API_KEY, "TEN99_WORKER": "on" if worker else "off"}
    return running_server(database_url=database_url, env=env)


def _api(server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(API_KEY, ""), timeout=30)


def _made(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _settled(api: httpx.Client, assignment_id: str) -> dict:
    deadline = time.monotonic() + 30
    while (current := _made(api.get(f"/assignments/{assignment_id}")))[
        "certificate_refresh_pending"
    ]:
        assert time.monotonic() < deadline, "the worker never regenerated the certificates"
        time.sleep(0.2)
    return current


def test_certificates_are_regenerated_after_a_restart(database_url):
    with _server(database_url, worker=True) as server:
        api = _api(server)
        entity = _made(api.post("/entities", json=new_entity()))
        job = _made(api.post("/jobs", json=new_job(entity["id"])))
        contractor = _made(api.post("/contractors", json=new_contractor()))
        parties = {"contractor": contractor["id"], "job": job["id"], "coverage_type": ["general"]}
        quote = _made(api.post("/quotes", json=parties))
        _made(api.post("/policies", json={"quote": quote["id"]}))
        assignment = _made(api.post("/assignments", json=parties))
        # Each server process links on its own address: compare the paths.
        first = _path(_settled(api, assignment["id"])["certificates"]["gl_coi_pdf_url"])

    # The process that answers the extend stops before its worker could regenerate anything.
    with _server(database_url, worker=False) as server:
        new_end = assignment["end_date"] + 7 * DAY
        extension = {"job_id": job["id"], "end_date": new_end, "send_email": False}
        extended = _made(_api(server).post("/assignments/extend", json=extension))
        assert extended["certificate_refresh_pending"] is True
        assert _path(extended["certificates"]["gl_coi_pdf_url"]) == first

    # The next process finds the recorded work and does it.
    with _server(database_url, worker=True) as server:
        current = _settled(_api(server), assignment["id"])
        fresh = _path(current["certificates"]["gl_coi_pdf_url"])
        assert current["end_date"] == new_end
        assert fresh != first
        origin = server.base_url.removesuffix("/api/v1")
        assert httpx.get(origin + first, timeout=30).status_code == 404
        pdf = httpx.get(origin + fresh, timeout=30)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def _path(link: str) -> str:
    return urlsplit(link).path
