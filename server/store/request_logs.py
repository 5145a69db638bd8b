"""Rows of the sandboxes' request logs: written in batches by the server (server_work), read by
their sandbox's key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.store.listing import owned, ownership, page_of
from server.store.records import Records, Repository
from server.store.tables import request_logs

REQUEST_LOGS = Records(request_logs, "req")


class RequestLogRepository(Repository):
    records = REQUEST_LOGS

    def page_where(
        self,
        page: PageRequest,
        equal: dict[str, Any],
        created_gte: int | None = None,
        created_lte: int | None = None,
    ) -> list[dict[str, Any]]:
        """A page of the caller's log, of the requests whose columns in `equal` have its values
        and that were made in the time range."""
        table = request_logs
        query = owned(table, self.principal).where(
            *(table.c[name] == value for name, value in equal.items())
        )
        if created_gte is not None:
            query = query.where(table.c.created >= created_gte)
        if created_lte is not None:
            query = query.where(table.c.created <= created_lte)
        return [self.records.record(row) for row in page_of(self.connection, table, query, page)]


def write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(request_logs), rows)


def forget(connection: Connection, request_ids: list[str]) -> None:
    connection.execute(delete(request_logs).where(request_logs.c.id.in_(request_ids)))


def prune(connection: Connection, principals: Iterable[Principal], keep: int) -> None:
    """Of each sandbox's log, only its latest `keep` requests."""
    table = request_logs
    for principal in principals:
        newest_dropped = (
            select(table.c.seq)
            .where(*ownership(table, principal))
            .order_by(table.c.seq.desc())
            .offset(keep)
            .limit(1)
            .scalar_subquery()
        )
        connection.execute(
            delete(table).where(*ownership(table, principal), table.c.seq <= newest_dropped)
        )


def purge_before(connection: Connection, created_before: int) -> int:
    """Forget every request made before `created_before`; returns how many."""
    return connection.execute(
        delete(request_logs).where(request_logs.c.created < created_before)
    ).rowcount


def after(connection: Connection, principal: Principal, seq: int | None, limit: int) -> list[dict]:
    """Up to `limit` of the sandbox's logged requests after `seq` (None: the latest), oldest
    first."""
    table = request_logs
    query = select(table).where(*ownership(table, principal)).limit(limit)
    if seq is None:
        rows = connection.execute(query.order_by(table.c.seq.desc())).all()[::-1]
    else:
        rows = connection.execute(query.where(table.c.seq > seq).order_by(table.c.seq)).all()
    return [dict(row._mapping) for row in rows]
