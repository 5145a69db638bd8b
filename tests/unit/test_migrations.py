"""The migrations build exactly the tables server/store/tables.py describes."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.store.db import make_engine, migrate
from server.store.tables import metadata


def test_migrated_schema_matches_the_table_definitions(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start finds nothing to do
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
