"""Webhook endpoint and delivery rows; the claim of a due delivery under a lease."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.store import test_clocks
from server.store.listing import owned, ownership, page_of
from server.store.prepared import Prepared
from server.store.records import Records, Repository, owner
from server.store.tables import test_clocks as test_clocks_table
from server.store.tables import webhook_deliveries, webhook_endpoints

ENDPOINTS = Records(
    webhook_endpoints,
    "we",
    write_only=frozenset({"secret", "previous_secret", "previous_secret_expires"}),
)
DELIVERIES = Records(webhook_deliveries, "whd")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

_ENABLED_ENDPOINTS = Prepared(
    select(webhook_endpoints.c.id, webhook_endpoints.c.enabled_events)
    .where(
        webhook_endpoints.c.account_id == bindparam("account_id"),
        webhook_endpoints.c.environment == bindparam("environment"),
        webhook_endpoints.c.status == "enabled",
    )
    .order_by(webhook_endpoints.c.seq),
    webhook_endpoints.columns,
)


def enabled_endpoints(connection: Connection, principal: Principal) -> list[dict]:
    """The caller's enabled endpoints: their `id` and `enabled_events`."""
    return _ENABLED_ENDPOINTS.rows(connection, owner(principal))


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


def add_delivery(
    connection: Connection, principal: Principal, endpoint_id: str, event: dict, at: int
) -> None:
    DELIVERIES.insert.execute(
        connection,
        {
            "id": DELIVERIES.new_id(),
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "created": at,
            "endpoint_id": endpoint_id,
            "event_id": event["id"],
            "event_type": event["type"],
            "object_id": event["object_id"],
            "status": PENDING,
            "attempts": [],
            "next_attempt_at": at,
            "leased_until": None,
            "lease": None,
        },
    )


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds the lease of, with what sending it needs."""

    seq: int
    lease: str
    delivery_id: str
    account_id: str
    environment: str
    event_id: str
    url: str
    # The endpoint's secret, and the one before it while that is still valid.
    signing_secrets: tuple[str, ...]
    created: int
    attempts: list[dict]
    now: int  # the time of the delivery's sandbox


def _claim_statements(for_principal: bool) -> tuple[Select, Update]:
    """What claim_due runs, built once (building it anew took ten times what running it
    does): the due deliveries to lease, and a lease. Their values are bound by name: `wall`,
    `horizon`, `skipping`, `limit`, the principal's `account_id` and `environment`; the
    lease's `b_seq`, `b_leased_until` and `b_lease` (an update may not bind its columns' own
    names)."""
    deliveries = webhook_deliveries
    earlier = aliased(webhook_deliveries)
    wall = bindparam("wall", type_=BigInteger)
    # Leases are the workers' own: on the wall clock.
    free = or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until <= wall)
    now = test_clocks.time_of(deliveries, wall)
    if for_principal:
        whose = and_(
            deliveries.c.account_id == bindparam("account_id"),
            deliveries.c.environment == bindparam("environment"),
        )
    else:
        whose = ~test_clocks.advancing(deliveries)
    due = (
        select(deliveries.c.seq, now.label("now"), webhook_endpoints)
        .join(webhook_endpoints, webhook_endpoints.c.id == deliveries.c.endpoint_id)
        .where(
            deliveries.c.status == PENDING,
            # The latest time of any sandbox: bounds the walk of the due index to what may be
            # due, where `now` (per row) could not.
            deliveries.c.next_attempt_at <= bindparam("horizon", type_=BigInteger),
            deliveries.c.next_attempt_at <= now,
            free,
            whose,
            deliveries.c.account_id.not_in(bindparam("skipping", expanding=True)),
            webhook_endpoints.c.status == "enabled",
            ~exists().where(
                and_(
                    earlier.c.endpoint_id == deliveries.c.endpoint_id,
                    earlier.c.object_id == deliveries.c.object_id,
                    earlier.c.status == PENDING,
                    earlier.c.seq < deliveries.c.seq,
                )
            ),
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=deliveries)
    )
    lease = (
        update(deliveries)
        .where(deliveries.c.seq == bindparam("b_seq"), deliveries.c.status == PENDING, free)
        .values(leased_until=bindparam("b_leased_until"), lease=bindparam("b_lease"))
        .returning(
            deliveries.c.id, deliveries.c.event_id, deliveries.c.created, deliveries.c.attempts
        )
    )
    return due, lease


_CLAIMS = {for_principal: _claim_statements(for_principal) for for_principal in (False, True)}
_LATEST_CLOCK = select(func.max(test_clocks_table.c.frozen_time))


def claim_due(
    session: Connection,
    wall: int,
    lease_seconds: int,
    *,
    limit: int,
    share: int,
    in_flight: Counter[str],
    principal: Principal | None = None,
) -> list[Claim]:
    """Lease up to `limit` of the oldest due deliveries to enabled endpoints, none while its
    endpoint has an earlier delivery about the same object still pending (so each object's
    events arrive in order), and at most `share` of one account's, counting those it has
    `in_flight` already. Due in its sandbox's time: its test clock's, or `wall`. Deliveries of
    a sandbox whose clock is advancing are the advance's to make: claimed with its `principal`
    only. PostgreSQL skips rows another worker is claiming; the conditional update makes a
    second claimant (SQLite, or a lock released by a commit) find the lease taken."""
    due, lease_statement = _CLAIMS[principal is not None]
    counts = Counter(in_flight)
    full = [account for account, count in counts.items() if count >= share]
    latest_clock = session.execute(_LATEST_CLOCK).scalar()
    horizon = wall if latest_clock is None else max(wall, latest_clock)
    values: dict = {"wall": wall, "horizon": horizon, "skipping": full, "limit": limit}
    if principal is not None:
        values |= {"account_id": principal.account_id, "environment": principal.environment.value}
    claims: list[Claim] = []
    for row in session.execute(due, values).all():
        if len(claims) == limit or counts[row.account_id] >= share:
            continue
        lease = secrets.token_hex(16)
        leased_until = wall + lease_seconds
        taken = session.execute(
            lease_statement,
            {"b_seq": row.seq, "wall": wall, "b_leased_until": leased_until, "b_lease": lease},
        ).first()
        if taken is None:  # another worker's now
            continue
        counts[row.account_id] += 1
        claims.append(
            Claim(
                seq=row.seq,
                lease=lease,
                delivery_id=taken.id,
                account_id=row.account_id,
                environment=row.environment,
                event_id=taken.event_id,
                url=row.url,
                signing_secrets=signing_secrets(row, wall),
                created=taken.created,
                attempts=list(taken.attempts),
                now=row.now,
            )
        )
    return claims


def signing_secrets(endpoint, at: int) -> tuple[str, ...]:
    previous = endpoint.previous_secret
    if previous is not None and endpoint.previous_secret_expires > at:
        return (endpoint.secret, previous)
    return (endpoint.secret,)


def record_attempt(
    session: Connection, claim: Claim, attempt: dict, *, status: str, next_attempt_at: int | None
) -> bool:
    """Append the attempt and set the outcome, if this worker still holds the lease; returns
    whether it did."""
    done = session.execute(
        _RECORD_ATTEMPT,
        {
            "b_seq": claim.seq,
            "b_lease": claim.lease,
            "attempts": [*claim.attempts, attempt],
            "status": status,
            "next_attempt_at": next_attempt_at,
        },
    )
    return done.rowcount == 1


_RECORD_ATTEMPT = (
    update(webhook_deliveries)
    .where(
        webhook_deliveries.c.seq == bindparam("b_seq"),
        webhook_deliveries.c.lease == bindparam("b_lease"),
    )
    .values(leased_until=None, lease=None)
)
