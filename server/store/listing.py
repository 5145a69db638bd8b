"""Owner scoping and cursor pages, shared by every resource table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, Table, select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.errors import NotFound
from server.domain.pagination import PageRequest


def owned(table: Table, principal: Principal, *, including_deleted: bool = False) -> Select:
    """Rows of the caller's account and environment; others' rows, and deleted rows kept for
    history (`deleted_at` set, unless `including_deleted`), do not exist for them."""
    query = select(table).where(
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    )
    if "deleted_at" in table.c and not including_deleted:
        query = query.where(table.c.deleted_at.is_(None))
    return query


def _cursor_seq(
    session: Session, table: Table, query: Select, object_id: str, param: str, kind: str
) -> int:
    row = session.execute(
        query.with_only_columns(table.c.seq).where(table.c.id == object_id)
    ).first()
    if row is None:
        raise NotFound(kind, object_id, param=param)
    return row.seq


def page_of(
    session: Session, table: Table, query: Select, page: PageRequest, *, kind: str
) -> Sequence[Row[Any]]:
    """One page of the rows `query` selects, most recent first; cursors must be among them."""
    rows = query
    if page.starting_after is not None:
        seq = _cursor_seq(session, table, query, page.starting_after, "starting_after", kind)
        rows = rows.where(table.c.seq < seq)
    if page.ending_before is not None:
        seq = _cursor_seq(session, table, query, page.ending_before, "ending_before", kind)
        rows = rows.where(table.c.seq > seq)
    if page.ending_before is not None and page.starting_after is None:
        # The objects just newer than the cursor: read upwards, then present newest first.
        found = session.execute(rows.order_by(table.c.seq.asc()).limit(page.limit)).all()
        return found[::-1]
    return session.execute(rows.order_by(table.c.seq.desc()).limit(page.limit)).all()
