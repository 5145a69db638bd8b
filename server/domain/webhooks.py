"""Webhook endpoints, and the rules of delivering events to them: the signature, the retry
schedule. Sending is server/delivery.py's."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.events import ALL_TYPES
from server.domain.ids import new_id
from server.domain.pagination import PageRequest
from server.domain.terms import DAY
from server.domain.urls import check_http_url
from server.store import webhooks as queries
from server.store.db import Database
from server.store.webhooks import ENDPOINTS

ENABLED, DISABLED = "enabled", "disabled"

TIMEOUT = 10  # seconds an endpoint has to answer
RETRY_FOR = 3 * DAY  # after the event, then the delivery is failed
MAX_DELAY = 8 * 3600  # between two attempts


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Ten99Policy-Signature` header: HMAC-SHA256 of `<t>.<body>` keyed with the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def next_attempt(created: int, attempts_made: int, at: int, first_delay: int) -> int | None:
    """When to try again after `attempts_made` failed attempts, the last one `at`: the delay
    doubles from `first_delay` up to MAX_DELAY; None once that passes RETRY_FOR after the
    delivery was created (it has then failed)."""
    delay = min(first_delay * 2 ** (attempts_made - 1), MAX_DELAY)
    when = at + delay
    return None if when > created + RETRY_FOR else when


def _check(fields: dict[str, Any]) -> None:
    if "url" in fields:
        check_http_url(fields["url"], "url", "events are POSTed there")
    wanted = fields.get("enabled_events", [])
    if ALL_TYPES in wanted and len(wanted) > 1:
        raise InvalidRequest(
            '"*" enables every event type, so it must be the only item of enabled_events.',
            param="enabled_events",
        )


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """The new endpoint, with its secret: the only time the secret is shown."""
    _check(fields)
    secret = new_id("whsec", 32)  # 190 random bits
    with db.transaction() as session:
        endpoint = ENDPOINTS.create(
            session,
            principal,
            {
                "url": fields["url"],
                "description": fields.get("description"),
                "enabled_events": fields["enabled_events"],
                "status": ENABLED,
                "secret": secret,
            },
        )
    return {**endpoint, "secret": secret}


def retrieve(db: Database, principal: Principal, endpoint_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return ENDPOINTS.get(session, principal, endpoint_id)


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return ENDPOINTS.list_(session, principal, page)


def update(
    db: Database, principal: Principal, endpoint_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    _check(changes)
    with db.transaction() as session:
        return ENDPOINTS.save(session, principal, endpoint_id, changes)


def delete(db: Database, principal: Principal, endpoint_id: str) -> int:
    with db.transaction() as session:
        queries.remove_endpoint(session, principal, endpoint_id)
    return now()


def deliveries(
    db: Database,
    principal: Principal,
    endpoint_id: str,
    page: PageRequest,
    event_id: str | None,
) -> list[dict[str, Any]]:
    with db.transaction() as session:
        ENDPOINTS.row(session, principal, endpoint_id)
        return queries.deliveries_page(session, principal, endpoint_id, page, event_id=event_id)
