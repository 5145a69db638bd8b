"""Owner scoping and cursor pages, shared by every resource table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, Table, select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.errors import NotFound
from server.domain.pagination import PageRequest


def owned(table: Table, principal: Principal) -> Select:
    """Rows of the caller's account and environment; others' rows do not exist for them."""
    return select(table).where(
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    )


def get_owned(
    session: Session, table: Table, principal: Principal, object_id: str, *, kind: str, param: str
) -> Row:
    row = session.execute(owned(table, principal).where(table.c.id == object_id)).first()
    if row is None:
        raise NotFound(kind, object_id, param=param)
    return row


def _cursor_seq(
    session: Session, table: Table, principal: Principal, object_id: str, param: str, kind: str
) -> int:
    row = session.execute(
        owned(table, principal).with_only_columns(table.c.seq).where(table.c.id == object_id)
    ).first()
    if row is None:
        raise NotFound(kind, object_id, param=param)
    return row.seq


def list_page(
    session: Session, table: Table, principal: Principal, page: PageRequest, *, kind: str
) -> Sequence[Row[Any]]:
    """One page of the caller's rows, most recent first."""
    query = owned(table, principal)
    if page.starting_after is not None:
        seq = _cursor_seq(session, table, principal, page.starting_after, "starting_after", kind)
        query = query.where(table.c.seq < seq)
    if page.ending_before is not None:
        seq = _cursor_seq(session, table, principal, page.ending_before, "ending_before", kind)
        query = query.where(table.c.seq > seq)
    if page.ending_before is not None and page.starting_after is None:
        # The objects just newer than the cursor: read upwards, then present newest first.
        rows = session.execute(query.order_by(table.c.seq.asc()).limit(page.limit)).all()
        return rows[::-1]
    return session.execute(query.order_by(table.c.seq.desc()).limit(page.limit)).all()
