"""Webhook endpoints, and the rules of delivering events to them: the signature, the retry
schedule. Sending is server/worker/webhooks.py's."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from server.contract import schemas
from server.core.egress import TargetPolicy, TargetRefused, check_host
from server.core.errors import InvalidRequest, NotFound
from server.core.ids import new_id
from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.core.statuses import ENABLED
from server.domain import required
from server.domain.events import ALL_TYPES, wanted
from server.domain.terms import DAY
from server.domain.urls import check_http_url
from server.store.deliveries import DeliveryQueue, Endpoint, NewEvent
from server.store.unit_of_work import UnitOfWork

TIMEOUT = 10  # seconds an endpoint has to answer
RETRY_FOR = 3 * DAY  # after the event, then the delivery is failed
MAX_DELAY = 8 * 3600  # between two attempts
ROUTE_BATCH = 500  # events given their deliveries in one transaction


# How long a rotated-out secret goes on signing deliveries beside the new one.
ROTATION_OVERLAP = DAY
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    # 32 base62 characters: 190 random bits, and valid base64 (24 bytes), which is how
    # Standard Webhooks libraries read the part after the prefix.
    return new_id(SECRET_PREFIX.rstrip("_"), 32)


def signing_secrets(
    secret: str, previous: str | None, previous_expires: int | None, at: int
) -> tuple[str, ...]:
    """The secrets that sign a delivery made `at` (on the wall clock): the endpoint's, and the
    one it had before while its overlap lasts."""
    if previous is not None and previous_expires is not None and previous_expires > at:
        return (secret, previous)
    return (secret,)


def signature(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Ten99Policy-Signature` header: HMAC-SHA256 of `<t>.<body>` keyed with each secret
    (the whole string), in hex."""
    signed = f"{timestamp}.".encode() + body
    digests = (hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets)
    return f"t={timestamp}," + ",".join(f"v1={digest}" for digest in digests)


def standard_signature(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` header: HMAC-SHA256 of `<id>.<t>.<body>`
    keyed with the base64-decoded part of each secret after `whsec_`, in base64."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    keys = (base64.b64decode(s.removeprefix(SECRET_PREFIX)) for s in secrets)
    digests = (hmac.new(key, signed, hashlib.sha256).digest() for key in keys)
    return " ".join(f"v1,{base64.b64encode(digest).decode()}" for digest in digests)


def next_attempt(created: int, attempts_made: int, at: int, first_delay: int) -> int | None:
    """When to try again after `attempts_made` failed attempts, the last one `at`: the delay
    doubles from `first_delay` up to MAX_DELAY; None once that passes RETRY_FOR after the
    delivery was created (it has then failed)."""
    delay = min(first_delay * 2 ** (attempts_made - 1), MAX_DELAY)
    when = at + delay
    return None if when > created + RETRY_FOR else when


def deliveries_for(new: list[NewEvent], endpoints: list[Endpoint]) -> list[tuple[NewEvent, str]]:
    """Which endpoint receives which event: each of the event's sandbox that wants its type."""
    by_owner: dict[tuple[str, str], list[Endpoint]] = {}
    for endpoint in endpoints:
        by_owner.setdefault((endpoint.account_id, endpoint.environment), []).append(endpoint)
    return [
        (event, endpoint.id)
        for event in new
        for endpoint in by_owner.get((event.account_id, event.environment), [])
        if wanted(endpoint.enabled_events, event.type)
    ]


def route(queue: DeliveryQueue, principal: Principal | None = None) -> int:
    """Give every event not yet routed (of `principal`'s sandbox only, if given) a delivery to
    each enabled endpoint that receives it, the oldest events first; returns how many events
    were routed."""
    routed = 0
    while True:
        new, endpoints = queue.unrouted(ROUTE_BATCH, ENABLED, principal)
        if new:
            queue.route(new, deliveries_for(new, endpoints))
        routed += len(new)
        if len(new) < ROUTE_BATCH:
            return routed


def route_events(uow: UnitOfWork) -> None:
    """Route the sandbox's events so far to its endpoints as they are (before one changes: an
    event reaches the endpoints enabled when it happened, routed after its request or not)."""
    route(uow.deliveries, uow.principal)


def _one_subscription(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields with `events`, the current reference's name for `enabled_events`, taken as
    `enabled_events`: either may be sent, or both with the same list."""
    if "events" not in fields:
        return dict(fields)
    both = "enabled_events" in fields and fields["enabled_events"] != fields["events"]
    if both:
        raise InvalidRequest(
            "events and enabled_events are one list: send either, or the same list in both.",
            param="events",
        )
    rest = {name: value for name, value in fields.items() if name != "events"}
    return {**rest, "enabled_events": fields["events"]}


def _check(fields: Mapping[str, Any], targets: TargetPolicy) -> None:
    if "url" in fields:
        check_http_url(fields["url"], "url", "events are POSTed there")
        try:
            check_host(urlsplit(fields["url"]).hostname or "", targets)
        except TargetRefused as refused:
            raise InvalidRequest(
                f"url may not point into the server's network: {refused}. "
                "TEN99_WEBHOOK_TARGETS decides which addresses deliveries may go to.",
                code="url_not_allowed",
                param="url",
            ) from None
    wanted = fields.get("enabled_events", [])
    if ALL_TYPES in wanted and len(wanted) > 1:
        raise InvalidRequest(
            '"*" enables every event type, so it must be the only item of enabled_events.',
            param="enabled_events",
        )


def create(
    uow: UnitOfWork, body: schemas.WebhookEndpointCreate, *, targets: TargetPolicy
) -> dict[str, Any]:
    """The new endpoint, with its secret: the only time the secret is shown."""
    fields = _one_subscription(body)
    _check(fields, targets)
    route_events(uow)
    secret = new_secret()
    endpoint = uow.webhook_endpoints.add(
        {
            "url": fields["url"],
            "description": fields.get("description"),
            # As the client libraries' READMEs create them: no list means every event.
            "enabled_events": fields.get("enabled_events", [ALL_TYPES]),
            "status": ENABLED,
            "secret": secret,
        },
        uow.now,
    )
    return {**endpoint, "secret": secret}


def retrieve(uow: UnitOfWork, endpoint_id: str) -> dict[str, Any]:
    found = uow.webhook_endpoints.get(endpoint_id)
    return required(found, "webhook_endpoint", endpoint_id, param="webhook_endpoint_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.webhook_endpoints.page(page)


def update(
    uow: UnitOfWork,
    endpoint_id: str,
    changes: schemas.WebhookEndpointUpdate,
    *,
    targets: TargetPolicy,
) -> dict[str, Any]:
    fields = _one_subscription(changes)
    _check(fields, targets)
    route_events(uow)
    updated = uow.webhook_endpoints.update(endpoint_id, fields)
    return required(updated, "webhook_endpoint", endpoint_id, param="webhook_endpoint_id")


def delete(uow: UnitOfWork, endpoint_id: str) -> int:
    if not uow.webhook_endpoints.remove(endpoint_id):
        raise NotFound("webhook_endpoint", endpoint_id, param="webhook_endpoint_id")
    return uow.now


def rotate_secret(uow: UnitOfWork, endpoint_id: str) -> dict[str, Any]:
    """A new secret for the endpoint, shown this once; the one before keeps signing deliveries
    for ROTATION_OVERLAP of the wall clock, which signatures are on whatever the sandbox's
    clock, and the one before that stops."""
    secret = new_secret()
    expires = uow.wall() + ROTATION_OVERLAP
    rotated = uow.webhook_endpoints.rotate_secret(endpoint_id, secret, expires)
    endpoint = required(rotated, "webhook_endpoint", endpoint_id, param="webhook_endpoint_id")
    return {**endpoint, "secret": secret}


def retry_delivery(uow: UnitOfWork, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    """The delivery, due now: the worker attempts it within its next poll, whatever its status
    was. A failed attempt then follows the schedule, which ends RETRY_FOR after the event."""
    retrieve(uow, endpoint_id)
    retried = uow.webhook_endpoints.retry_delivery(endpoint_id, delivery_id, uow.now)
    return required(retried, "webhook_delivery", delivery_id, param="webhook_delivery_id")


def retry_failed(uow: UnitOfWork, endpoint_id: str) -> list[dict[str, Any]]:
    """Every failed delivery of the endpoint, pending again and due now."""
    retrieve(uow, endpoint_id)
    return uow.webhook_endpoints.retry_failed(endpoint_id, uow.now)


def deliveries(
    uow: UnitOfWork, endpoint_id: str, page: PageRequest, event_id: str | None
) -> list[dict[str, Any]]:
    retrieve(uow, endpoint_id)
    return uow.webhook_endpoints.deliveries(endpoint_id, page, event_id)
