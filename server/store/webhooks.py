"""Webhook endpoint and delivery rows; the claim of a due delivery under a lease."""

from __future__ import annotations

from sqlalchemy import (
    delete,
    select,
    update,
)

from server.core.pagination import PageRequest
from server.core.statuses import FAILED, PENDING
from server.store.listing import owned, ownership, page_of
from server.store.records import Records, Repository
from server.store.tables import webhook_deliveries, webhook_endpoints

ENDPOINTS = Records(
    webhook_endpoints,
    "we",
    write_only=frozenset({"secret", "previous_secret", "previous_secret_expires"}),
)
DELIVERIES = Records(webhook_deliveries, "whd")


class EndpointRepository(Repository):
    records = ENDPOINTS

    def remove(self, endpoint_id: str) -> bool:
        """Delete the endpoint and its deliveries: nothing more is sent to it."""
        if not super().remove(endpoint_id):
            return False
        deliveries = webhook_deliveries
        self.connection.execute(delete(deliveries).where(deliveries.c.endpoint_id == endpoint_id))
        return True

    def rotate_secret(self, endpoint_id: str, secret: str, previous_expires: int) -> dict | None:
        """Make `secret` the endpoint's, and the one it had the previous until
        `previous_expires`, in one statement (two rotations at once lose neither); the record
        after, or None if there is no such endpoint."""
        table = webhook_endpoints
        rotated = self.connection.execute(
            update(table)
            .where(table.c.id == endpoint_id, *ownership(table, self.principal))
            .values(
                previous_secret=table.c.secret,
                secret=secret,
                previous_secret_expires=previous_expires,
            )
        )
        return self.get(endpoint_id) if rotated.rowcount else None

    def retry_delivery(self, endpoint_id: str, delivery_id: str, at: int) -> dict | None:
        """Make the endpoint's delivery pending, due `at`; the record after, or None if the
        endpoint has no such delivery."""
        table = webhook_deliveries
        mine = (
            table.c.id == delivery_id,
            table.c.endpoint_id == endpoint_id,
            *ownership(table, self.principal),
        )
        retried = self.connection.execute(
            update(table).where(*mine).values(status=PENDING, next_attempt_at=at)
        )
        if not retried.rowcount:
            return None
        return DELIVERIES.record(self.connection.execute(select(table).where(*mine)).one())

    def retry_failed(self, endpoint_id: str, at: int) -> list[dict]:
        """Make every failed delivery of the endpoint pending, due `at`; their records after,
        the most recent first."""
        table = webhook_deliveries
        retried = self.connection.execute(
            update(table)
            .where(
                table.c.endpoint_id == endpoint_id,
                table.c.status == FAILED,
                *ownership(table, self.principal),
            )
            .values(status=PENDING, next_attempt_at=at)
            .returning(table.c.seq)
        )
        seqs = [row.seq for row in retried]
        if not seqs:
            return []
        rows = self.connection.execute(
            select(table).where(table.c.seq.in_(seqs)).order_by(table.c.seq.desc())
        )
        return [DELIVERIES.record(row) for row in rows]

    def deliveries_of_event(self, event_id: str) -> list[tuple[str, dict]]:
        """The event's deliveries, with the URL of each one's endpoint."""
        query = (
            owned(webhook_deliveries, self.principal)
            .add_columns(webhook_endpoints.c.url.label("endpoint_url"))
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.event_id == event_id)
            .order_by(webhook_deliveries.c.seq)
        )
        return [
            (row.endpoint_url, DELIVERIES.record(row)) for row in self.connection.execute(query)
        ]

    def deliveries(self, endpoint_id: str, page: PageRequest, event_id: str | None) -> list[dict]:
        query = owned(webhook_deliveries, self.principal).where(
            webhook_deliveries.c.endpoint_id == endpoint_id
        )
        if event_id is not None:
            query = query.where(webhook_deliveries.c.event_id == event_id)
        rows = page_of(self.connection, webhook_deliveries, query, page)
        return [DELIVERIES.record(row) for row in rows]
