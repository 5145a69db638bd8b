"""SQLite: the inserts of requests whose units of work end in one turn of the event loop are
committed together (store/group_commit.py), and each request returns only once its own are
committed, or fails alone with what refused them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from server.core.principals import Environment, Principal
from server.domain import contractors
from server.store import deferred
from server.store.db import Database
from server.store.records import Records
from server.store.tables import contractors as contractors_table
from server.store.tables import events, events_to_route
from tests.conftest import new_contractor

PRINCIPAL = Principal("acct_a", Environment.SANDBOX)  # `sandbox_key`'s account


def _rows(database: Database) -> tuple[int, int, int]:
    with database.engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (contractors_table, events, events_to_route)
        )


def _create(database: Database) -> dict:
    with database.unit_of_work(PRINCIPAL) as uow:
        return contractors.create(uow, new_contractor())


def _create_twice_with_one_id(database: Database) -> None:
    """A contractor, and a second insert with its id: the table refuses it."""
    with database.unit_of_work(PRINCIPAL) as uow:
        made = contractors.create(uow, new_contractor())
        values = {c.name: None for c in contractors_table.columns if c.name != "seq"}
        values |= {"id": made["id"], "created": made["created"], "account_id": "acct_a"}
        values |= {"environment": "sandbox", "custom_metadata": {}}
        assert deferred.hold(uow._connection, Records(contractors_table, "cn").insert, values)


def _commits(database: Database) -> list[bool]:
    """SQLite's commits from now on (SQLAlchemy's commit of a block that wrote nothing ends no
    transaction of SQLite's, and is left out)."""
    counted: list[bool] = []

    def commit(connection) -> None:
        if connection.connection.dbapi_connection.in_transaction:
            counted.append(True)

    event.listen(database.engine, "commit", commit)
    return counted


def test_requests_that_end_in_one_turn_commit_once_and_return_committed(database, sandbox_key):
    commits = _commits(database)
    seen_committed: list[bool] = []

    async def request() -> None:
        made = await database.run(lambda: _create(database))
        with database.engine.connect() as other:  # another connection sees it at once
            found = other.execute(
                select(contractors_table.c.id).where(contractors_table.c.id == made["id"])
            ).all()
        seen_committed.append(bool(found))

    async def requests() -> None:
        await asyncio.gather(*(request() for _ in range(5)))

    asyncio.run(requests())
    assert len(commits) == 1
    assert seen_committed == [True] * 5
    assert _rows(database) == (5, 5, 5)


def test_a_refused_insert_fails_its_own_request_alone(database, sandbox_key):
    async def requests() -> list:
        return await asyncio.gather(
            database.run(lambda: _create(database)),
            database.run(lambda: _create_twice_with_one_id(database)),
            database.run(lambda: _create(database)),
            return_exceptions=True,
        )

    first, refused, last = asyncio.run(requests())
    assert isinstance(refused, IntegrityError)
    assert first["id"] != last["id"]
    assert _rows(database) == (2, 2, 2)  # nothing of the refused request's


def test_a_second_unit_of_work_reads_what_the_first_handed_over(database, sandbox_key):
    def work() -> tuple[dict, dict | None]:
        made = _create(database)
        with database.unit_of_work(PRINCIPAL, write=False) as uow:
            return made, uow.contractors.get(made["id"])

    made, found = asyncio.run(database.run(work))
    assert found == made


def test_the_worker_is_woken_once_the_events_are_committed(database, sandbox_key):
    database.events_published.clear()
    woken_before_commit: list[bool] = []

    def work() -> None:
        _create(database)
        woken_before_commit.append(database.events_published.is_set())

    asyncio.run(database.run(work))
    assert woken_before_commit == [False]
    assert database.events_published.is_set()


def test_work_that_fails_after_handing_inserts_over_still_has_them_written(database, sandbox_key):
    """As when each unit of work committed at its end: what ended, stays."""

    def work() -> None:
        _create(database)
        raise RuntimeError("the request failed after its unit of work")

    async def request() -> None:
        with pytest.raises(RuntimeError):
            await database.run(work)
        await asyncio.sleep(0)  # the turn ends: the batch is written

    asyncio.run(request())
    assert _rows(database) == (1, 1, 1)
