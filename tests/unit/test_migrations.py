"""The migrations build exactly the tables server/store/tables.py describes, and processes
starting together on a new PostgreSQL database migrate it once, one after the other."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
