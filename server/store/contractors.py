"""Contractor rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, update
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.ids import new_id
from server.domain.pagination import PageRequest
from server.store.listing import get_owned, list_page
from server.store.tables import OWNER_COLUMNS, contractors

KIND = "contractor"
PARAM = "contractor_id"
FIELD_COLUMNS = tuple(c.name for c in contractors.columns if c.name not in OWNER_COLUMNS)
# The tax id is stored but never shown: it is write-only.
PUBLIC_COLUMNS = ("id", "created", *(c for c in FIELD_COLUMNS if c != "tax_identification"))


def _as_dict(row: Row) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in PUBLIC_COLUMNS}
    data["object"] = KIND
    return data


def _fields(row: Row) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELD_COLUMNS}


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name) for name in FIELD_COLUMNS}
    values.update(
        id=new_id("cn"),
        account_id=principal.account_id,
        environment=principal.environment.value,
        created=now(),
    )
    session.execute(insert(contractors).values(**values))
    return get(session, principal, values["id"])


def get(session: Session, principal: Principal, contractor_id: str) -> dict[str, Any]:
    return _as_dict(
        get_owned(session, contractors, principal, contractor_id, kind=KIND, param=PARAM)
    )


def get_fields(session: Session, principal: Principal, contractor_id: str) -> dict[str, Any]:
    """The stored, changeable fields of a contractor, the tax id included."""
    return _fields(
        get_owned(session, contractors, principal, contractor_id, kind=KIND, param=PARAM)
    )


def list_(session: Session, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    return [_as_dict(row) for row in list_page(session, contractors, principal, page, kind=KIND)]


def save(
    session: Session, principal: Principal, contractor_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    session.execute(
        update(contractors)
        .where(contractors.c.id == contractor_id)
        .values(**{name: fields[name] for name in FIELD_COLUMNS})
    )
    return get(session, principal, contractor_id)


def remove(session: Session, principal: Principal, contractor_id: str) -> None:
    get_owned(session, contractors, principal, contractor_id, kind=KIND, param=PARAM)
    session.execute(delete(contractors).where(contractors.c.id == contractor_id))
