"""Owner scoping and cursor pages, shared by every resource table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, select

from server.core.errors import NotFound
from server.core.pagination import PageRequest
from server.core.principals import Principal


def ownership(table: Table, principal: Principal) -> tuple:
    """The conditions that keep a statement to the caller's account and environment."""
    return (
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    )


def owns(principal: Principal, row: Mapping[str, Any]) -> bool:
    """Whether a row found by its unique id is the caller's.

    Lookups by id select by the id alone and compare the owner here: given the owner's columns
    too, PostgreSQL may pick the owner's index over the id's (its statistics trail a table that
    grows fast, and both then look like one row), and scan every row of the owner."""
    return (
        row["account_id"] == principal.account_id
        and row["environment"] == principal.environment.value
    )


def owned(table: Table, principal: Principal, *, including_deleted: bool = False) -> Select:
    """Rows of the caller's account and environment; others' rows, and deleted rows kept for
    history (`deleted_at` set, unless `including_deleted`), do not exist for them."""
    query = select(table).where(*ownership(table, principal))
    if "deleted_at" in table.c and not including_deleted:
        query = query.where(table.c.deleted_at.is_(None))
    return query


def _cursor_seq(
    connection: Connection, table: Table, query: Select, page: PageRequest, param: str
) -> int:
    object_id = getattr(page, param)
    row = connection.execute(
        query.with_only_columns(table.c.seq).where(table.c.id == object_id)
    ).first()
    if row is None:
        raise NotFound(page.of, object_id, param=param)
    return row.seq


def page_of(
    connection: Connection, table: Table, query: Select, page: PageRequest
) -> Sequence[Row[Any]]:
    """One page of the rows `query` selects, most recent first; cursors must be among them."""
    rows = query
    if page.starting_after is not None:
        seq = _cursor_seq(connection, table, query, page, "starting_after")
        rows = rows.where(table.c.seq < seq)
    if page.ending_before is not None:
        seq = _cursor_seq(connection, table, query, page, "ending_before")
        rows = rows.where(table.c.seq > seq)
    if page.ending_before is not None and page.starting_after is None:
        # The objects just newer than the cursor: read upwards, then present newest first.
        found = connection.execute(rows.order_by(table.c.seq.asc()).limit(page.limit)).all()
        return found[::-1]
    return connection.execute(rows.order_by(table.c.seq.desc()).limit(page.limit)).all()
