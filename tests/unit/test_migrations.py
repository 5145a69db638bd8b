"""The migrations build exactly the tables server/store/tables.py describes, processes starting
together on a new PostgreSQL database migrate it once, one after the other, and what a migration
reshapes keeps its data."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.core.principals import Environment, Principal
from server.store import request_logs, schema
from server.store.db import make_engine
from server.store.schema import migrate
from server.store.tables import metadata
from tests import postgres


@pytest.mark.storage
def test_migrated_schema_matches_the_table_definitions(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start finds nothing to do
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.postgres
def test_processes_starting_together_on_a_new_postgresql_database_all_migrate_it():
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with postgres.fresh_database() as url:
        engines = [make_engine(url) for _ in range(4)]
        try:
            pool = ThreadPoolExecutor(len(engines))
            # Without a lock they deadlock on each other's DDL, or fail on tables that exist.
            for started in [pool.submit(migrate, engine) for engine in engines]:
                started.result(timeout=60)
            pool.shutdown()
            with engines[0].connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), metadata)
        finally:
            for engine in engines:
                engine.dispose()
    assert differences == []


def _to(engine, revision: str, step=command.upgrade) -> None:
    config = schema._config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


@pytest.mark.storage
def test_the_requests_logged_before_batches_move_into_batches_and_back(database_url):
    engine = make_engine(database_url)
    at_0019 = command.upgrade if schema.version(engine).current is None else command.downgrade
    _to(engine, "0019", step=at_0019)
    rows = sa.table("request_logs", *(sa.column(name) for name in _logged_row("", "", 0)))
    logged = [
        _logged_row(f"req_Moved{number:03}", account, created=1_000 + number)
        for number, account in enumerate(["acct_a"] * 250 + ["acct_b"] * 3)
    ]
    with engine.begin() as connection:
        for account in ("acct_a", "acct_b"):
            connection.execute(
                sa.text("INSERT INTO accounts (id, name, created) VALUES (:id, :id, 0)"),
                {"id": account},
            )
        connection.execute(sa.insert(rows), logged)
    _to(engine, "head")
    with engine.connect() as connection:
        moved = request_logs.after(connection, Principal("acct_a", Environment.SANDBOX), None, 500)
        sizes = connection.execute(sa.text("SELECT size FROM request_log_batches")).scalars()
        assert sorted(sizes) == [3, 50, 200]  # a sandbox's requests, 200 to a batch
    assert [entry["id"] for entry in moved] == [row["id"] for row in logged[:250]]
    assert moved[7]["idempotent_replayed"] is True and moved[7]["response_body"] == '{"ok":1}'
    _to(engine, "0019", step=command.downgrade)
    with engine.connect() as connection:
        back = connection.execute(sa.select(rows).order_by(sa.column("id"))).mappings().all()
    _to(engine, "head")
    engine.dispose()
    assert [dict(row) for row in back] == sorted(logged, key=lambda row: row["id"])


def _logged_row(request_id: str, account_id: str, created: int) -> dict:
    return {
        "id": request_id,
        "account_id": account_id,
        "environment": "sandbox",
        "created": created,
        "method": "POST",
        "path": "/api/v1/contractors",
        "operation_id": "createContractor",
        "status": 201,
        "duration_us": 1500,
        "error_code": None,
        "idempotency_key": "k-1",
        "idempotent_replayed": True,
        "test_fault": None,
        "request_body": '{"first_name":"A"}',
        "response_body": '{"ok":1}',
    }
