"""Alembic environment: run against the connection server.store.db.migrate hands over."""

from alembic import context
from sqlalchemy import create_engine

from server.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    # Run from the alembic command line: take the URL from the alembic config.
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the alembic config sets no sqlalchemy.url")
    engine = create_engine(url)
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
