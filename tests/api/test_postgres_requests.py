"""Requests on PostgreSQL, which run through asyncpg: the URL's libpq parameters reach it, and a
connection the server dropped is replaced before a request uses it."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import make_url

from tests.conftest import bearer
from tests.official_payloads import CONTRACTOR

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True),
]
NAME = "ten99-tests-requests"
LEFT = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"


def test_libpq_parameters_in_the_url_reach_the_requests_driver(
    database_url, client_with, sandbox_key
):
    url = f"{database_url}?sslmode=disable&connect_timeout=5&application_name={NAME}"
    client = client_with(database_url=url)
    created = client.post("/api/v1/contractors", json=CONTRACTOR, headers=bearer(sandbox_key))
    assert created.status_code == 201, created.text
    read = client.get(f"/api/v1/contractors/{created.json()['id']}", headers=bearer(sandbox_key))
    assert read.json()["id"] == created.json()["id"]


def test_requests_go_on_when_the_server_drops_every_connection(
    database_url, client_with, sandbox_key
):
    with client_with(database_url=f"{database_url}?application_name={NAME}") as client:
        for _ in range(3):  # connections in the pool
            listed = client.get("/api/v1/contractors", headers=bearer(sandbox_key))
            assert listed.status_code == 200
        admin = make_url(database_url).set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as pg:
            dropped = pg.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (NAME,),
            ).fetchone()
            assert dropped is not None and dropped[0] >= 1
            # pg_terminate_backend only signals: until the backends are gone.
            deadline = time.monotonic() + 10
            while pg.execute(LEFT, (NAME,)).fetchone() != (0,):
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.05)
        time.sleep(0.2)  # the client's event loop reads that its sockets closed
        answers = [
            client.get("/api/v1/contractors", headers=bearer(sandbox_key)).status_code
            for _ in range(10)
        ]
        assert answers == [200] * 10
