"""The rows of one table of API objects, and a repository of them bound to one caller.

A table's columns carry the objects' field names, so a row reads as a record: a dict of `id`,
`created` and the stored fields. What the API shows of a record is server/api/representation.py's
business; the store knows tables, not the API. The statements of the common reads and writes
are built once, with bound parameters: building a statement costs more than running it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, Row, Table, bindparam, select
from sqlalchemy.exc import IntegrityError

from server.core.ids import new_id
from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.store import deferred
from server.store.listing import owned, owns, page_of
from server.store.prepared import Prepared, insert_into
from server.store.tables import OWNER_COLUMNS


def owner(principal: Principal) -> dict[str, str]:
    """The bound parameters of a statement scoped with bindparam("account_id", "environment")."""
    return {"account_id": principal.account_id, "environment": principal.environment.value}


class Records:
    """A table of objects: its id prefix and the statements it runs."""

    def __init__(
        self,
        table: Table,
        prefix: str,
        *,
        write_only: frozenset[str] = frozenset(),  # stored, never read back out
        id_length: int = 14,  # random characters after the prefix; more where the id is a secret
    ):
        self.table, self.prefix, self.write_only, self.id_length = (
            table,
            prefix,
            write_only,
            id_length,
        )
        # Plain str names: SQLAlchemy's are a str subclass, which JSON encoders may refuse as keys.
        self.field_columns = tuple(
            str(c.name) for c in table.columns if c.name not in OWNER_COLUMNS
        )
        self.shown_columns = tuple(name for name in self.field_columns if name not in write_only)
        self.insert = insert_into(table)
        self.update = table.update().where(table.c.id == bindparam("object_id"))
        self.delete = table.delete().where(table.c.id == bindparam("object_id"))
        live = select(table)
        if "deleted_at" in table.c:
            live = live.where(table.c.deleted_at.is_(None))
        # By id alone (ids are unique), the owner compared on the row found: see `owns`.
        self.by_id = Prepared(live.where(table.c.id == bindparam("id")), table.columns)
        owned = live.where(
            table.c.account_id == bindparam("account_id"),
            table.c.environment == bindparam("environment"),
        )
        # The first page of a list, which most list requests ask for.
        first_page = owned.order_by(table.c.seq.desc()).limit(bindparam("limit", type_=Integer))
        self.first_page = Prepared(first_page, table.columns)

    def record(self, row: Row | dict) -> dict[str, Any]:
        values = row._mapping if isinstance(row, Row) else row
        found = {"id": values["id"], "created": values["created"]}
        found.update((name, values[name]) for name in self.shown_columns)
        return found

    def new_id(self) -> str:
        return new_id(self.prefix, self.id_length)


class Repository:
    """The objects of one table that belong to one caller (account and environment). A
    repository with queries of its own subclasses it and names its table's `records`."""

    records: Records
    # What an insert that a unique constraint refuses raises, given the fields; None: let it be.
    conflict: Callable[[dict[str, Any]], Exception] | None = None

    def __init__(
        self, connection: Connection, principal: Principal, records: Records | None = None
    ):
        if records is not None:
            self.records = records
        self.connection = connection
        self.principal = principal

    def _row(self, object_id: str) -> dict[str, Any] | None:
        return self._owned_row(self.records.by_id, {"id": object_id})

    def _owned_row(self, statement: Prepared, values: dict[str, Any]) -> dict[str, Any] | None:
        """The first row `statement` finds, if it is the caller's (see `owns`)."""
        rows = statement.rows(self.connection, values)
        return rows[0] if rows and owns(self.principal, rows[0]) else None

    def get(self, object_id: str) -> dict[str, Any] | None:
        row = self._row(object_id)
        return None if row is None else self.records.record(row)

    def stored(self, object_id: str) -> dict[str, Any] | None:
        """Every stored field of the object, the write-only ones included."""
        row = self._row(object_id)
        return None if row is None else {n: row[n] for n in self.records.field_columns}

    def add(self, fields: dict[str, Any], at: int) -> dict[str, Any]:
        """Insert the object, created `at`; returns its record."""
        values = {name: fields.get(name) for name in self.records.field_columns}
        values.update(id=self.records.new_id(), created=at, **owner(self.principal))
        # Held back to the end of a request's unit of work where it can be (store/deferred.py):
        # not where a conflict is to be told apart at once.
        if self.conflict is not None or not deferred.hold(
            self.connection, self.records.insert, values
        ):
            try:
                self.records.insert.execute(self.connection, values)
            except IntegrityError as error:
                if self.conflict is None:
                    raise
                raise self.conflict(fields) from error
        return self.records.record(values)

    def update(self, object_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Write the given fields of the object; its record after, or None if there is none."""
        row = self._row(object_id)
        if row is None:
            return None
        current = dict(row)
        changes = {name: fields[name] for name in self.records.field_columns if name in fields}
        if changes:
            self.connection.execute(self.records.update, {"object_id": object_id, **changes})
            current.update(changes)
        return self.records.record(current)

    def mark(self, object_id: str, flag: str) -> bool:
        """Set the object's boolean column `flag`, unless it is set; whether this call set it
        (of two workers at once, one does)."""
        table = self.records.table
        marked = self.connection.execute(
            table.update()
            .where(table.c.id == object_id, table.c[flag].is_(False))
            .values({flag: True})
        )
        return marked.rowcount == 1

    def remove(self, object_id: str) -> bool:
        """Delete the object's row; whether there was one."""
        if self._row(object_id) is None:
            return False
        self.connection.execute(self.records.delete, {"object_id": object_id})
        return True

    def page(self, page: PageRequest) -> list[dict[str, Any]]:
        rows: Sequence[Row | dict[str, Any]]
        if page.starting_after is None and page.ending_before is None:
            params = {"limit": page.limit, **owner(self.principal)}
            rows = self.records.first_page.rows(self.connection, params)
        else:
            table = self.records.table
            rows = page_of(self.connection, table, owned(table, self.principal), page)
        return [self.records.record(row) for row in rows]
