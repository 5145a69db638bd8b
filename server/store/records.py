"""The rows of one kind of API object, scoped to the caller's account and environment.

A table's columns carry the API's field names, so a row reads as the object's fields. The
statements of the common reads and writes are built once, with bound parameters, and run again
and again: building a statement costs more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import NotFound
from server.domain.ids import new_id
from server.domain.pagination import PageRequest
from server.store.listing import owned, page_of
from server.store.tables import OWNER_COLUMNS


def owner(principal: Principal) -> dict[str, str]:
    """The bound parameters of an owned() statement built with bindparam()s."""
    return {"account_id": principal.account_id, "environment": principal.environment.value}


@dataclass(frozen=True)
class Records:
    table: Table
    kind: str  # the API's `object`
    prefix: str  # of the ids
    param: str  # the path parameter naming one object
    write_only: frozenset[str] = frozenset()  # stored, never read back out
    id_length: int = 14  # random characters after the prefix; longer where the id is a secret

    @cached_property
    def field_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.name not in OWNER_COLUMNS)

    @cached_property
    def _shown_columns(self) -> tuple[str, ...]:
        return tuple(name for name in self.field_columns if name not in self.write_only)

    @cached_property
    def _by_id(self):
        table = self.table
        query = select(table).where(
            table.c.account_id == bindparam("account_id"),
            table.c.environment == bindparam("environment"),
            table.c.id == bindparam("id"),
        )
        if "deleted_at" in table.c:
            query = query.where(table.c.deleted_at.is_(None))
        return query

    @cached_property
    def _insert(self):
        return self.table.insert()

    @cached_property
    def _update(self):
        return self.table.update().where(self.table.c.id == bindparam("object_id"))

    @cached_property
    def _delete(self):
        return self.table.delete().where(self.table.c.id == bindparam("object_id"))

    def as_dict(self, row: Row | dict) -> dict[str, Any]:
        values = row._mapping if isinstance(row, Row) else row
        data = {"id": values["id"], "object": self.kind, "created": values["created"]}
        data.update((name, values[name]) for name in self._shown_columns)
        return data

    def create(
        self,
        session: Session,
        principal: Principal,
        fields: dict[str, Any],
        *,
        at: int | None = None,
    ) -> dict:
        """Insert the object, created `at` (default: now); returns it."""
        values = {name: fields.get(name) for name in self.field_columns}
        values.update(
            id=new_id(self.prefix, self.id_length),
            created=now() if at is None else at,
            **owner(principal),
        )
        session.execute(self._insert, values)
        return self.as_dict(values)

    def _find_row(self, session: Session, principal: Principal, object_id: str) -> Row | None:
        return session.execute(self._by_id, {"id": object_id, **owner(principal)}).first()

    def row(
        self,
        session: Session,
        principal: Principal,
        object_id: str,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> Row:
        """The caller's object; NotFound (with `param` and `code` when the id came from a request
        body rather than the path) when there is none."""
        found = self._find_row(session, principal, object_id)
        if found is None:
            raise NotFound(self.kind, object_id, param=param or self.param, code=code)
        return found

    def get(self, session: Session, principal: Principal, object_id: str, **named) -> dict:
        return self.as_dict(self.row(session, principal, object_id, **named))

    def find(self, session: Session, principal: Principal, object_id: str) -> dict | None:
        """The caller's object, or None when there is none (no error: the caller decides)."""
        found = self._find_row(session, principal, object_id)
        return None if found is None else self.as_dict(found)

    def fields(self, session: Session, principal: Principal, object_id: str) -> dict[str, Any]:
        """Every stored field of the object, the write-only ones included."""
        found = self.row(session, principal, object_id)._mapping
        return {name: found[name] for name in self.field_columns}

    def list_(self, session: Session, principal: Principal, page: PageRequest) -> list[dict]:
        rows = page_of(session, self.table, owned(self.table, principal), page, kind=self.kind)
        return [self.as_dict(row) for row in rows]

    def save(
        self, session: Session, principal: Principal, object_id: str, fields: dict[str, Any]
    ) -> dict:
        """Write the given fields of the caller's object; returns the object."""
        current = dict(self.row(session, principal, object_id)._mapping)
        changes = {name: fields[name] for name in self.field_columns if name in fields}
        if changes:
            session.execute(self._update, {"object_id": object_id, **changes})
            current.update(changes)
        return self.as_dict(current)

    def remove(self, session: Session, principal: Principal, object_id: str) -> None:
        self.row(session, principal, object_id)
        session.execute(self._delete, {"object_id": object_id})
