"""A server killed (SIGKILL, its worker process with it) under load loses no work: the tasks its
worker had leased lapse after TEN99_TASK_LEASE_SECONDS and the next server's worker does them.
Real `ten99-server` processes, one after the other on one SQLite file."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from server.store.db import Database
from server.store.tables import tasks
from tests.conftest import bearer, bind, underwrite
from tests.live import running_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

LEASE_SECONDS = 2
POLICIES = 24
RESTART_DEADLINE = 60  # seconds after the restart by which every document is made


def _policy(base_url: str, key: str) -> str:
    with httpx.Client(base_url=base_url.removesuffix("/api/v1"), timeout=30) as http:
        return bind(http, key, underwrite(http, key)["quote"]["id"])["id"]


def _leased(database_url: str) -> int:
    """Tasks claimed and not done: those a worker held when it died."""
    database = Database(database_url)
    try:
        with database.transaction() as connection:
            query = select(func.count()).where(tasks.c.done_at.is_(None), tasks.c.attempts > 0)
            return connection.execute(query).scalar_one()
    finally:
        database.dispose()


def test_work_leased_by_a_killed_server_is_done_after_the_restart():
    env = {"TEN99_TASK_LEASE_SECONDS": str(LEASE_SECONDS)}
    with tempfile.TemporaryDirectory(prefix="ten99-crash-") as tmp:
        database_url = f"sqlite:///{tmp}/crash.db"
        with running_server(database_url=database_url, env=env) as first:
            key = first.api_key
            with ThreadPoolExecutor(4) as load:
                made = list(load.map(lambda _: _policy(first.base_url, key), range(POLICIES)))
            os.killpg(first.pid, signal.SIGKILL)  # mid-work: documents are being made
        held = _leased(database_url)

        with running_server(database_url=database_url, env=env) as second:
            restarted = time.monotonic()
            with httpx.Client(base_url=second.base_url, timeout=30) as http:
                waiting = set(made)
                while waiting:
                    assert time.monotonic() - restarted < RESTART_DEADLINE, (
                        f"{len(waiting)} of {POLICIES} policies have no document"
                    )
                    for policy_id in list(waiting):
                        found = http.get(f"/policies/{policy_id}", headers=bearer(key)).json()
                        if found["pdf_url"]:
                            waiting.discard(policy_id)
                    time.sleep(0.2)
            took = time.monotonic() - restarted
    print(f"{held} tasks were leased at the kill; every document was made {took:.1f} s after")
