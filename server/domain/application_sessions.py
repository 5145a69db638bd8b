"""Application sessions: a hosted page on which a contractor accepts the coverage of a quote.
The session id is the page's credential; accepting binds the policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from server.contract import schemas
from server.core.errors import DomainError, InvalidRequest
from server.core.pagination import PageRequest
from server.domain import events, policies, rating, required
from server.domain.terms import DAY
from server.domain.urls import check_http_url
from server.store.unit_of_work import UnitOfWork

LIFETIME = DAY
Status = Literal["open", "complete", "expired"]
OPEN: Status = "open"
COMPLETE: Status = "complete"
EXPIRED: Status = "expired"


def status_of(record: dict[str, Any], at: int) -> Status:
    if record["completed_at"] is not None:
        return COMPLETE
    return EXPIRED if record["expires_at"] <= at else OPEN


URL_FIELDS = ("success_url", "cancel_url")


def _check_urls(fields: Mapping[str, Any]) -> None:
    for name in URL_FIELDS:
        if fields.get(name) is not None:
            check_http_url(fields[name], name, "the contractor's browser is sent there")


def create(uow: UnitOfWork, fields: schemas.ApplicationSessionCreate) -> dict[str, Any]:
    _check_urls(fields)
    policies.bindable_quote(uow, fields["quote"])
    record = uow.application_sessions.add(
        {
            "quote": fields["quote"],
            "success_url": fields.get("success_url"),
            "cancel_url": fields.get("cancel_url"),
            "expires_at": uow.now + LIFETIME,
            "expiry_announced": False,
        },
        uow.now,
    )
    uow.publish("application.created", events.APPLICATION, record)
    return record


def expire(uow: UnitOfWork, session_id: str) -> None:
    """Announce that the session lapsed without the contractor accepting: `application.expired`."""
    record = uow.application_sessions.get(session_id)
    if record is None or status_of(record, uow.now) != EXPIRED:
        return
    if uow.application_sessions.mark(session_id, "expiry_announced"):
        uow.publish("application.expired", events.APPLICATION, record)


def retrieve(uow: UnitOfWork, session_id: str) -> dict[str, Any]:
    found = uow.application_sessions.get(session_id)
    return required(found, "application_session", session_id, param="session_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.application_sessions.page(page)


def update(
    uow: UnitOfWork, session_id: str, changes: schemas.ApplicationSessionUpdate
) -> dict[str, Any]:
    """Change where the contractor's browser goes afterwards, while the session is open."""
    record = required(
        uow.application_sessions.locked(session_id),
        "application_session",
        session_id,
        param="session_id",
    )
    closed = _closed(record, uow.now)
    if closed is not None:
        raise closed
    _check_urls(changes)
    return uow.application_sessions.update(session_id, changes)


# The hosted page: no API key, the session id is the credential. Its unit of work is the
# session owner's (server/web/hosted.py finds the owner by the id).


@dataclass(frozen=True)
class Coverage:
    name: str
    net_rate: int  # cents per $100 earned


@dataclass(frozen=True)
class Application:
    """What the hosted page shows; `refusal` is why the contractor can only go back."""

    session: dict[str, Any]
    contractor_name: str
    job_name: str
    entity_name: str
    coverages: list[Coverage]
    net_rate: int
    effective_date: int
    end_date: int
    refusal: DomainError | None


def _refusal(uow: UnitOfWork, record: dict) -> DomainError | None:
    """Why the session cannot be accepted now, if it cannot."""
    closed = _closed(record, uow.now)
    if closed is not None:
        return closed
    try:
        policies.bindable_quote(uow, record["quote"])
    except DomainError as refused:
        return refused
    return None


def _closed(record: dict, at: int) -> DomainError | None:
    """Why the session is over, if it is: completed, or expired."""
    status = status_of(record, at)
    if status == COMPLETE:
        return InvalidRequest(
            "This application is already complete: the coverage has been bound.",
            code="application_already_complete",
        )
    if status == EXPIRED:
        return InvalidRequest(
            "This application has expired. Ask for a new application link.",
            code="session_expired",
        )
    return None


def application(uow: UnitOfWork, record: dict[str, Any]) -> Application:
    """What the page shows of the session `record`."""
    refusal = _refusal(uow, record)
    quote = uow.quotes.get(record["quote"])  # quotes are never deleted
    try:
        found = policies.parties(uow, quote)
    except DomainError:
        found = {}  # the refusal says which party is gone
    contractor = found.get("contractor") or {}
    return Application(
        session=record,
        contractor_name=" ".join(
            filter(None, (contractor.get("first_name"), contractor.get("last_name")))
        ),
        job_name=(found.get("job") or {}).get("name", ""),
        entity_name=(found.get("entity") or {}).get("name", ""),
        coverages=[
            Coverage(name=rating.COVERAGE_NAMES[coverage], net_rate=net_rate)
            for coverage, net_rate in rating.net_rates(quote).items()
        ],
        net_rate=quote["net_rate"],
        effective_date=quote["effective_date"],
        end_date=quote["end_date"],
        refusal=refusal,
    )


def accept(uow: UnitOfWork, record: dict[str, Any]) -> dict[str, Any]:
    """Bind the quote's policy and complete the session, in one unit of work; the caller holds
    the session row locked, so a double submit completes it once (the second is
    `application_already_complete`)."""
    refusal = _refusal(uow, record)
    if refusal is not None:
        raise refusal
    policy = policies.bind(uow, {"quote": record["quote"]})
    completed = uow.application_sessions.update(
        record["id"], {"completed_at": uow.now, "policy": policy["id"]}
    )
    uow.publish("application.complete", events.APPLICATION, completed)
    return completed
