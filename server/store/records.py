"""The rows of one kind of API object, scoped to the caller's account and environment.

A table's columns carry the API's field names, so a row reads as the object's fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, insert, update
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.ids import new_id
from server.domain.pagination import PageRequest
from server.store.listing import get_owned, list_page, owned
from server.store.tables import OWNER_COLUMNS


@dataclass(frozen=True)
class Records:
    table: Table
    kind: str  # the API's `object`
    prefix: str  # of the ids
    param: str  # the path parameter naming one object
    write_only: frozenset[str] = frozenset()  # stored, never read back out
    id_length: int = 14  # random characters after the prefix; longer where the id is a secret

    @property
    def field_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.name not in OWNER_COLUMNS)

    def as_dict(self, row: Row) -> dict[str, Any]:
        data = {"id": row.id, "object": self.kind, "created": row.created}
        data.update(
            (name, getattr(row, name)) for name in self.field_columns if name not in self.write_only
        )
        return data

    def create(
        self,
        session: Session,
        principal: Principal,
        fields: dict[str, Any],
        *,
        at: int | None = None,
    ) -> dict:
        """Insert the object, created `at` (default: now)."""
        values = {name: fields.get(name) for name in self.field_columns}
        values.update(
            id=new_id(self.prefix, self.id_length),
            account_id=principal.account_id,
            environment=principal.environment.value,
            created=now() if at is None else at,
        )
        session.execute(insert(self.table).values(**values))
        return self.get(session, principal, values["id"])

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
        return get_owned(
            session,
            self.table,
            principal,
            object_id,
            kind=self.kind,
            param=param or self.param,
            code=code,
        )

    def get(self, session: Session, principal: Principal, object_id: str, **named) -> dict:
        return self.as_dict(self.row(session, principal, object_id, **named))

    def find(self, session: Session, principal: Principal, object_id: str) -> dict | None:
        """The caller's object, or None when there is none (no error: the caller decides)."""
        query = owned(self.table, principal).where(self.table.c.id == object_id)
        row = session.execute(query).first()
        return None if row is None else self.as_dict(row)

    def fields(self, session: Session, principal: Principal, object_id: str) -> dict[str, Any]:
        """Every stored field of the object, the write-only ones included."""
        row = self.row(session, principal, object_id)
        return {name: getattr(row, name) for name in self.field_columns}

    def list_(self, session: Session, principal: Principal, page: PageRequest) -> list[dict]:
        rows = list_page(session, self.table, principal, page, kind=self.kind)
        return [self.as_dict(row) for row in rows]

    def save(
        self, session: Session, principal: Principal, object_id: str, fields: dict[str, Any]
    ) -> dict:
        """Write the given fields of the caller's object; returns the object."""
        self.row(session, principal, object_id)
        changes = {name: fields[name] for name in self.field_columns if name in fields}
        if changes:
            session.execute(
                update(self.table).where(self.table.c.id == object_id).values(**changes)
            )
        return self.get(session, principal, object_id)

    def remove(self, session: Session, principal: Principal, object_id: str) -> None:
        self.row(session, principal, object_id)
        session.execute(self.table.delete().where(self.table.c.id == object_id))
