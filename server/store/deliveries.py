"""The queue of webhook deliveries: events routed to the endpoints that want them, the claim of
due deliveries under a lease, with the events they carry, and the record of each attempt."""

from __future__ import annotations

import functools
import secrets
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import aliased

from server.core.metrics import Backlog
from server.core.principals import Principal
from server.core.statuses import ENABLED, PENDING
from server.store import clocks
from server.store.events import EVENTS
from server.store.tables import events, events_to_route, webhook_deliveries, webhook_endpoints
from server.store.tables import test_clocks as test_clocks_table
from server.store.webhooks import DELIVERIES


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds the lease of, with what sending it needs."""

    seq: int
    lease: str
    delivery_id: str
    account_id: str
    environment: str
    event: dict
    url: str
    # The endpoint's secret, and the one before it with the time it stops being valid.
    secret: str
    previous_secret: str | None
    previous_secret_expires: int | None
    created: int
    attempts: list[dict]
    now: int  # the time of the delivery's sandbox

    @property
    def event_id(self) -> str:
        return self.event["id"]


# A due delivery as `due` finds it: its seq, its sandbox's time (`now`), its endpoint's columns.
Due = Row


class Leased(NamedTuple):
    """A due delivery this worker leased: what `due` found, what the lease returned."""

    row: Due
    taken: Row
    lease: str


@dataclass(frozen=True)
class Outcome:
    """An attempt made, and what it leaves the delivery: its status, and when to try again."""

    claim: Claim
    attempt: dict
    status: str
    next_attempt_at: int | None


@dataclass(frozen=True)
class NewEvent:
    """An event not yet given its deliveries."""

    seq: int
    id: str
    account_id: str
    environment: str
    type: str
    object_id: str
    created: int


@dataclass(frozen=True)
class Endpoint:
    """An endpoint events may be delivered to, with the types it wants."""

    id: str
    account_id: str
    environment: str
    enabled_events: list[str]


_ROUTING_LOCK = 1099_0002  # the PostgreSQL advisory lock of the one routing events at a time
_ROUTING = text("SELECT pg_advisory_xact_lock(:key)")
_ANALYZE_DELIVERIES = text("ANALYZE webhook_deliveries")
# When routing analyzes the deliveries it made (`_Growth`): once they grew by a fifth of what
# they were when last analyzed, and by at least this many.
ANALYZE_AFTER_ROWS = 1_000
ANALYZE_AFTER_GROWTH = 0.2


class _Growth:
    """PostgreSQL plans the read of due deliveries from the table's statistics, which
    autovacuum refreshes at most once a minute in each database: a queue that grows from
    nothing to thousands of rows within that minute is planned as if empty, a sort of every
    pending delivery each round (32 ms a round with 12,000 pending) instead of a walk of the
    due index that stops at the first it needs (0.5 ms). So routing, which makes the rows,
    analyzes the table itself as it grows: a few times, as each analysis waits for a fifth
    more rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: weakref.WeakKeyDictionary[Engine, tuple[int, int]] = weakref.WeakKeyDictionary()

    def made(self, connection: Connection, rows: int) -> None:
        """`rows` deliveries made on `connection`: analyze the table if it grew enough."""
        with self._lock:
            made, analyzed_at = self._made.get(connection.engine, (0, 0))
            made += rows
            due = made - analyzed_at >= max(ANALYZE_AFTER_ROWS, ANALYZE_AFTER_GROWTH * analyzed_at)
            self._made[connection.engine] = (made, made if due else analyzed_at)
        if due:
            connection.execute(_ANALYZE_DELIVERIES)


_GROWTH = _Growth()


@functools.cache
def _unrouted(for_principal: bool, limit: int) -> Select:
    """The first `limit` events to route (of a principal's sandbox, bound by name). The limit is
    written into the statement: PostgreSQL plans a statement run often once, for any values,
    and for `LIMIT $1` over a list that may be long it hashed every event ever made."""
    columns = (
        events.c.seq,
        events.c.id,
        events.c.account_id,
        events.c.environment,
        events.c.type,
        events.c.object_id,
        events.c.created,
    )
    rows: ColumnElement[int] = literal_column(str(int(limit)))
    if for_principal:
        query = select(*columns).join(events_to_route, events_to_route.c.event_seq == events.c.seq)
        query = query.where(
            events.c.account_id == bindparam("account_id"),
            events.c.environment == bindparam("environment"),
        )
        return query.order_by(events_to_route.c.event_seq).limit(rows)
    # The first of the list, then their events by key: joined whole, PostgreSQL's planner
    # merges the two in order, walking every event older than the first to route.
    first = select(events_to_route.c.event_seq).order_by(events_to_route.c.event_seq).limit(rows)
    batch = first.subquery()
    return select(*columns).join(batch, batch.c.event_seq == events.c.seq).order_by(events.c.seq)


_ENDPOINTS_OF = select(
    webhook_endpoints.c.id,
    webhook_endpoints.c.account_id,
    webhook_endpoints.c.environment,
    webhook_endpoints.c.enabled_events,
).where(
    webhook_endpoints.c.status == bindparam("status"),
    webhook_endpoints.c.account_id.in_(bindparam("accounts", expanding=True)),
)
# Taken off the list to route, as they are routed: those another transaction took are not.
_ROUTED = (
    delete(events_to_route)
    .where(events_to_route.c.event_seq.in_(bindparam("seqs", expanding=True)))
    .returning(events_to_route.c.event_seq)
)


def _attemptable(now: ColumnElement[int]) -> tuple[ColumnElement[bool], ...]:
    """What makes a pending delivery (joined to its endpoint) one to attempt at `now`: due, to
    an enabled endpoint, and no earlier delivery about the same object to the same endpoint
    still pending (each object's events arrive in order)."""
    deliveries, earlier = webhook_deliveries, aliased(webhook_deliveries)
    return (
        deliveries.c.status == PENDING,
        deliveries.c.next_attempt_at <= now,
        webhook_endpoints.c.status == ENABLED,
        ~exists().where(
            and_(
                earlier.c.endpoint_id == deliveries.c.endpoint_id,
                earlier.c.object_id == deliveries.c.object_id,
                earlier.c.status == PENDING,
                earlier.c.seq < deliveries.c.seq,
            )
        ),
    )


def _sandbox_of(table: Table) -> ColumnElement[bool]:
    return and_(
        table.c.account_id == bindparam("account_id"),
        table.c.environment == bindparam("environment"),
    )


def _due(for_principal: bool) -> Select:
    """The due deliveries to lease, built once (building it anew took ten times what running
    it does), with their endpoints. Bound by name: `wall`, `horizon`, `skipping`, `limit`, and
    the principal's `account_id` and `environment`."""
    deliveries = webhook_deliveries
    wall = bindparam("wall", type_=BigInteger)
    now = clocks.time_of(deliveries, wall)
    due = (
        select(deliveries.c.seq, now.label("now"), webhook_endpoints)
        .join(webhook_endpoints, webhook_endpoints.c.id == deliveries.c.endpoint_id)
        .where(
            # The latest time of any sandbox: bounds the walk of the due index to what may be
            # due, where `now` (per row) could not.
            deliveries.c.next_attempt_at <= bindparam("horizon", type_=BigInteger),
            *_attemptable(now),
            _free(wall),
            deliveries.c.account_id.not_in(bindparam("skipping", expanding=True)),
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
        .limit(bindparam("limit", type_=Integer))
    )
    return due.where(_sandbox_of(deliveries)) if for_principal else due


def _free(wall: ColumnElement[int]) -> ColumnElement[bool]:
    """Held by no worker: leases are the workers' own, on the wall clock."""
    leased_until = webhook_deliveries.c.leased_until
    return or_(leased_until.is_(None), leased_until <= wall)


def _outstanding() -> Select:
    """Whether a sandbox (`account_id`, `environment`) has deliveries still to make at its time
    `at`: events not yet routed, attempts to make, or attempts in flight (leased at `wall`)."""
    deliveries = webhook_deliveries
    unrouted = (
        select(events.c.seq)
        .join(events_to_route, events_to_route.c.event_seq == events.c.seq)
        .where(_sandbox_of(events))
    )
    due = (
        select(deliveries.c.seq)
        .join(webhook_endpoints, webhook_endpoints.c.id == deliveries.c.endpoint_id)
        .where(_sandbox_of(deliveries), *_attemptable(bindparam("at", type_=BigInteger)))
    )
    in_flight = select(deliveries.c.seq).where(
        _sandbox_of(deliveries),
        deliveries.c.status == PENDING,
        deliveries.c.leased_until > bindparam("wall", type_=BigInteger),
    )
    return select(or_(exists(unrouted), exists(due), exists(in_flight)))


_DUE = {for_principal: _due(for_principal) for for_principal in (False, True)}
# A lease of deliveries still pending and free (an update may not bind its columns' own
# names: `b_seqs`, `b_leased_until`, `b_lease`).
_LEASE = (
    update(webhook_deliveries)
    .where(
        webhook_deliveries.c.seq.in_(bindparam("b_seqs", expanding=True)),
        webhook_deliveries.c.status == PENDING,
        _free(bindparam("wall", type_=BigInteger)),
    )
    .values(leased_until=bindparam("b_leased_until"), lease=bindparam("b_lease"))
    .returning(
        webhook_deliveries.c.seq,
        webhook_deliveries.c.id,
        webhook_deliveries.c.event_id,
        webhook_deliveries.c.created,
        webhook_deliveries.c.attempts,
    )
)
_OUTSTANDING = _outstanding()
_LATEST_CLOCK = select(func.max(test_clocks_table.c.frozen_time))
# The leases the deliveries hold.
_LEASES = select(webhook_deliveries.c.seq, webhook_deliveries.c.lease).where(
    webhook_deliveries.c.seq.in_(bindparam("seqs", expanding=True))
)
_EVENTS_BY_ID = select(events).where(events.c.id.in_(bindparam("ids", expanding=True)))
_RECORD_ATTEMPT = (
    update(webhook_deliveries)
    .where(
        webhook_deliveries.c.seq == bindparam("b_seq"),
        webhook_deliveries.c.lease == bindparam("b_lease"),
    )
    .values(leased_until=None, lease=None)
)


class DeliveryQueue:
    """Every account's webhook deliveries, in the transaction of the server's work."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def backlog(self, wall: int) -> Backlog:
        """The deliveries due (each in its sandbox's time) and free to attempt, the ones a
        worker holds, and how long the oldest due one has waited."""
        deliveries = webhook_deliveries
        now = clocks.time_of(deliveries, literal(wall, BigInteger))
        due, waited = self.connection.execute(
            select(func.count(), func.max(now - deliveries.c.next_attempt_at))
            .select_from(deliveries)
            .join(webhook_endpoints, webhook_endpoints.c.id == deliveries.c.endpoint_id)
            .where(*_attemptable(now), _free(literal(wall, BigInteger)))
        ).one()
        held = self.connection.execute(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.status == PENDING, deliveries.c.leased_until > wall)
        ).scalar_one()
        return Backlog("webhook_delivery", due, held, waited or 0)

    def unrouted(
        self, limit: int, endpoint_status: str, principal: Principal | None = None
    ) -> tuple[list[NewEvent], list[Endpoint]]:
        """Up to `limit` of the oldest events not yet given their deliveries (of `principal`'s
        sandbox only, if given), and the endpoints of their accounts in `endpoint_status`."""
        values: dict = {}
        if principal is not None:
            values |= {
                "account_id": principal.account_id,
                "environment": principal.environment.value,
            }
        query = _unrouted(principal is not None, limit)
        found = [NewEvent(*row) for row in self.connection.execute(query, values)]
        if not found:
            return [], []
        accounts = sorted({event.account_id for event in found})
        rows = self.connection.execute(
            _ENDPOINTS_OF, {"status": endpoint_status, "accounts": accounts}
        )
        return found, [Endpoint(*row) for row in rows]

    def route(self, routed: list[NewEvent], deliveries: list[tuple[NewEvent, str]]) -> int:
        """Record a pending delivery of each event to each endpoint id paired with it, due at
        the event's time, for those of the `routed` events no one has routed since they were
        read (they may have been read in an earlier transaction); returns how many events
        this routed. One transaction routes at a time (the others wait), so that deliveries
        are made in the order of their events."""
        if not routed:
            return 0
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(_ROUTING, {"key": _ROUTING_LOCK})
        seqs = [event.seq for event in routed]
        mine = {row.event_seq for row in self.connection.execute(_ROUTED, {"seqs": seqs})}
        deliveries = [(event, endpoint) for event, endpoint in deliveries if event.seq in mine]
        if deliveries:
            self.connection.execute(
                DELIVERIES.table.insert(),
                [
                    {
                        "id": DELIVERIES.new_id(),
                        "account_id": event.account_id,
                        "environment": event.environment,
                        "created": event.created,
                        "endpoint_id": endpoint_id,
                        "event_id": event.id,
                        "event_type": event.type,
                        "object_id": event.object_id,
                        "status": PENDING,
                        "attempts": [],
                        "next_attempt_at": event.created,
                        "leased_until": None,
                        "lease": None,
                    }
                    for event, endpoint_id in deliveries
                ],
            )
            if self.connection.dialect.name == "postgresql":
                _GROWTH.made(self.connection, len(deliveries))
        return len(mine)

    def due(
        self,
        wall: int,
        *,
        limit: int,
        share: int,
        in_flight: Counter[str],
        principal: Principal | None = None,
    ) -> list[Due]:
        """Up to `limit` of the oldest due deliveries to enabled endpoints that no one holds,
        none while its endpoint has an earlier delivery about the same object still pending
        (so each object's events arrive in order), and at most `share` of one account's,
        counting those it has `in_flight` already. Due in its sandbox's time: its test clock's,
        or `wall`. With `principal`, only its sandbox's. A read: `lease` takes them."""
        due = _DUE[principal is not None]
        counts = Counter(in_flight)
        full = [account for account, count in counts.items() if count >= share]
        latest_clock = self.connection.execute(_LATEST_CLOCK).scalar()
        horizon = wall if latest_clock is None else max(wall, latest_clock)
        values: dict = {"wall": wall, "horizon": horizon, "skipping": full, "limit": limit}
        if principal is not None:
            values |= {
                "account_id": principal.account_id,
                "environment": principal.environment.value,
            }
        wanted: list[Due] = []
        for row in self.connection.execute(due, values).all():
            if len(wanted) < limit and counts[row.account_id] < share:
                counts[row.account_id] += 1
                wanted.append(row)
        return wanted

    def lease(self, due: list[Due], wall: int, lease_seconds: int) -> list[Leased]:
        """Lease the `due` deliveries still pending and free (read in an earlier transaction,
        another worker may have taken some since), under one lease for them all."""
        if not due:
            return []
        lease = secrets.token_hex(16)
        leased = {
            taken.seq: taken
            for taken in self.connection.execute(
                _LEASE,
                {
                    "b_seqs": [row.seq for row in due],
                    "wall": wall,
                    "b_leased_until": wall + lease_seconds,
                    "b_lease": lease,
                },
            )
        }
        return [Leased(row, leased[row.seq], lease) for row in due if row.seq in leased]

    def claims(self, leased: list[Leased]) -> list[Claim]:
        """The leased deliveries with the events they carry."""
        if not leased:
            return []
        ids = [taken.taken.event_id for taken in leased]
        carried = {
            row.id: EVENTS.record(row)
            for row in self.connection.execute(_EVENTS_BY_ID, {"ids": ids})
        }
        return [
            Claim(
                seq=row.seq,
                lease=lease,
                delivery_id=taken.id,
                account_id=row.account_id,
                environment=row.environment,
                event=carried[taken.event_id],
                url=row.url,
                secret=row.secret,
                previous_secret=row.previous_secret,
                previous_secret_expires=row.previous_secret_expires,
                created=taken.created,
                attempts=list(taken.attempts),
                now=row.now,
            )
            for row, taken, lease in leased
        ]

    def outstanding(self, principal: Principal, at: int, wall: int) -> bool:
        """Whether the sandbox has deliveries still to make at its time `at`: events to route,
        due attempts to make (as `due` finds them), attempts in flight."""
        values = {
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "at": at,
            "wall": wall,
        }
        return bool(self.connection.execute(_OUTSTANDING, values).scalar())

    def holding(self, outcomes: list[Outcome]) -> tuple[list[Outcome], list[Claim]]:
        """Of the `outcomes`, those whose delivery still has the lease of its claim, and the
        claims whose lease ran out first (their attempts are not to be recorded)."""
        if not outcomes:
            return [], []
        seqs = [outcome.claim.seq for outcome in outcomes]
        holding = {row.seq: row.lease for row in self.connection.execute(_LEASES, {"seqs": seqs})}
        held = [o for o in outcomes if holding.get(o.claim.seq) == o.claim.lease]
        return held, [o.claim for o in outcomes if holding.get(o.claim.seq) != o.claim.lease]

    def hand_back(self, claims: list[Claim]) -> None:
        """Give up claims whose attempts did not end (the worker is stopping): each delivery is
        free for the next worker at once, where its lease is still this claim's. A receiver may
        then see the event twice, as it may after any lost answer: it has the same id."""
        if claims:
            values = [{"b_seq": claim.seq, "b_lease": claim.lease} for claim in claims]
            self.connection.execute(_RECORD_ATTEMPT, values)

    def record(self, outcomes: list[Outcome]) -> None:
        """Append each attempt and set its outcome, where the lease of its claim still holds."""
        if outcomes:
            values = [
                {
                    "b_seq": outcome.claim.seq,
                    "b_lease": outcome.claim.lease,
                    "attempts": [*outcome.claim.attempts, outcome.attempt],
                    "status": outcome.status,
                    "next_attempt_at": outcome.next_attempt_at,
                }
                for outcome in outcomes
            ]
            self.connection.execute(_RECORD_ATTEMPT, values)
