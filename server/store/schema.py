"""The schema's version: Alembic's migrations, run as a step of their own (`ten99-server
migrate`) or by a process as it starts, and the check a process makes when it may not migrate
(TEN99_MIGRATE_AT_START=off) and that /readyz makes."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 1099_0001  # the PostgreSQL advisory lock held while migrating


@dataclass(frozen=True)
class SchemaVersion:
    current: str | None  # None: an empty database
    head: str  # the newest migration this code knows

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.is_current:
            return f"the schema is current (revision {self.head})"
        found = f"revision {self.current}" if self.current else "no schema"
        return f"the database has {found}; this server needs revision {self.head}"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head() -> str:
    newest = ScriptDirectory.from_config(_config()).get_current_head()
    assert newest is not None  # the migrations are a single line of revisions
    return newest


def version_on(connection: Connection) -> SchemaVersion:
    """The version of the schema `connection` sees: one read of Alembic's version table."""
    current = MigrationContext.configure(connection).get_current_revision()
    return SchemaVersion(current, head())


def version(engine: Engine) -> SchemaVersion:
    with engine.connect() as connection:
        return version_on(connection)


def migrate(engine: Engine) -> tuple[SchemaVersion, SchemaVersion]:
    """Bring the schema to the newest migration; returns the versions before and after. Safe to
    run again, and from processes started together: on PostgreSQL they migrate one after the
    other, and the later ones find nothing to do."""
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = version_on(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        after = version_on(connection)
    if before != after:
        log.info(
            "migrated the schema from %s to revision %s", before.current or "nothing", after.current
        )
    return before, after


class SchemaNotCurrent(Exception):
    """The process may not migrate, and the schema is not the one its code needs."""


def prepare(engine: Engine, *, may_migrate: bool) -> None:
    """Migrate, or (when the process may not) make sure the schema is current."""
    if may_migrate:
        migrate(engine)
        return
    found = version(engine)
    if not found.is_current:
        raise SchemaNotCurrent(
            f"{found.describe()}, and TEN99_MIGRATE_AT_START=off forbids this process to "
            "migrate it: run `ten99-server migrate` first"
        )
