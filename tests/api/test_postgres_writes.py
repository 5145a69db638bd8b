"""A request's writes on PostgreSQL (store/deferred.py): reads outside a transaction, inserts
held back and written at the end in one statement, which needs no transaction; whatever else
begins one. Either way all of a unit of work is written, or none of it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from server.core.principals import Environment, Principal
from server.domain import contractors
from server.store import deferred, statements
from server.store.db import Database
from server.store.records import Records
from server.store.tables import contractors as contractors_table
from server.store.tables import events, events_to_route
from tests.api.test_statement_counts import counts
from tests.conftest import bearer, new_contractor

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True),
]
PRINCIPAL = Principal("acct_a", Environment.SANDBOX)  # `sandbox_key`'s account


def _on_the_loop(database: Database, work):
    """`work()` as a request runs it: on an event loop, through asyncpg."""

    async def run():
        try:
            return await database.run(work)
        finally:
            await database.close_requests()

    return asyncio.run(run())


def _rows(database: Database) -> tuple[int, int, int]:
    with database.engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (contractors_table, events, events_to_route)
        )


def test_a_create_is_two_statements_and_no_transaction(client_with, sandbox_key):
    client = client_with(count_statements=True)
    client.get("/api/v1/contractors", headers=bearer(sandbox_key))  # the key, looked up once
    created = client.post("/api/v1/contractors", json=new_contractor(), headers=bearer(sandbox_key))
    assert created.status_code == 201, created.text
    # The sandbox's clock; the contractor, its event and the event's row to route.
    assert counts(created) == {"statements": 2, "transactions": 0}
    listed = client.get("/api/v1/events?type=contractor.created", headers=bearer(sandbox_key))
    assert [event["data"]["object"]["id"] for event in listed.json()] == [created.json()["id"]]


def test_a_read_after_a_held_insert_sees_it_in_a_transaction(database, sandbox_key):
    def work():
        with statements.counting() as counted, database.unit_of_work(PRINCIPAL) as uow:
            made = contractors.create(uow, new_contractor())
            assert uow.contractors.get(made["id"]) == made
        return counted

    counted = _on_the_loop(database, work)
    assert counted.transactions == 1
    assert _rows(database) == (1, 1, 1)


@pytest.mark.parametrize("read_first", [False, True], ids=["held", "in-transaction"])
def test_work_that_fails_writes_nothing(database, sandbox_key, read_first):
    def work():
        with database.unit_of_work(PRINCIPAL) as uow:
            made = contractors.create(uow, new_contractor())
            if read_first:  # the held insert is written, in the transaction that then rolls back
                uow.contractors.get(made["id"])
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        _on_the_loop(database, work)
    assert _rows(database) == (0, 0, 0)


def test_one_refused_insert_refuses_all_that_was_held(database, sandbox_key):
    duplicate = Records(contractors_table, "cn")

    def work():
        with database.unit_of_work(PRINCIPAL) as uow:
            made = contractors.create(uow, new_contractor())
            values = {c.name: None for c in contractors_table.columns if c.name != "seq"}
            values |= {"id": made["id"], "created": made["created"], "account_id": "acct_a"}
            values |= {"environment": "sandbox", "custom_metadata": {}}
            assert deferred.hold(uow._connection, duplicate.insert, values)

    with pytest.raises(IntegrityError):
        _on_the_loop(database, work)
    assert _rows(database) == (0, 0, 0)


def test_requests_open_at_most_the_settings_connections(database_url):
    """TEN99_DATABASE_CONNECTIONS bounds the connections a server process opens for requests:
    nine units of work at once on three connections run in three waves, the rest waiting on the
    loop for a connection, none refused."""
    database = Database(database_url, request_connections=3)
    sleep = text("SELECT pg_sleep(0.15)")
    busiest = 0

    def work():
        with database.unit_of_work(PRINCIPAL) as uow:
            uow._connection.execute(sleep)  # a statement that holds its connection a while

    def sleeping() -> int:
        with database.engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE query = :q"), {"q": str(sleep)}
            ).scalar_one()

    async def nine_at_once():
        nonlocal busiest
        runs = asyncio.gather(*(database.run(work) for _ in range(9)))
        while not runs.done():
            busiest = max(busiest, await asyncio.to_thread(sleeping))
            await asyncio.sleep(0.02)
        await runs
        await database.close_requests()

    try:
        asyncio.run(nine_at_once())
    finally:
        database.dispose()
    assert busiest == 3
