"""Application sessions: a hosted page on which a contractor accepts the coverage of a quote.
The session id is the page's credential; accepting binds the policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.domain import events, policies, rating
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.domain.pagination import PageRequest
from server.domain.terms import DAY
from server.domain.urls import check_http_url
from server.store import application_sessions as queries
from server.store.application_sessions import APPLICATION_SESSIONS
from server.store.db import Database
from server.store.quotes import QUOTES

LIFETIME = DAY
OPEN, COMPLETE, EXPIRED = "open", "complete", "expired"


def status_of(record: dict[str, Any], at: int) -> str:
    if record["completed_at"] is not None:
        return COMPLETE
    return EXPIRED if record["expires_at"] <= at else OPEN


def present(record: dict[str, Any], at: int) -> dict[str, Any]:
    """The API's session, without its `url` (the caller knows its own address)."""
    fields = ("id", "object", "created", "quote", "success_url", "cancel_url", "expires_at")
    return {
        **{name: record[name] for name in fields},
        "status": status_of(record, at),
        "policy": record["policy"],
    }


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    at = now()
    for name in ("success_url", "cancel_url"):
        if fields.get(name) is not None:
            check_http_url(fields[name], name, "the contractor's browser is sent there")
    with db.transaction() as session:
        policies.bindable_quote(session, principal, fields["quote"])
        record = APPLICATION_SESSIONS.create(
            session,
            principal,
            {
                "quote": fields["quote"],
                "success_url": fields.get("success_url"),
                "cancel_url": fields.get("cancel_url"),
                "expires_at": at + LIFETIME,
            },
            at=at,
        )
        application = present(record, at)
        events.record(
            session, principal, "application.created", events.APPLICATION, application, at
        )
        return application


def retrieve(db: Database, principal: Principal, session_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return present(APPLICATION_SESSIONS.get(session, principal, session_id), now())


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    at = now()
    with db.transaction() as session:
        return [present(r, at) for r in APPLICATION_SESSIONS.list_(session, principal, page)]


# The hosted page: no API key, the session id is the credential.


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


def _open(session: Session, session_id: str) -> tuple[Principal, dict]:
    found = queries.find_by_capability(session, session_id)
    if found is None:
        raise NotFound("application session", session_id)
    return found


def _refusal(session: Session, owner: Principal, record: dict, at: int) -> DomainError | None:
    """Why the session cannot be accepted now, if it cannot."""
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
    try:
        policies.bindable_quote(session, owner, record["quote"])
    except DomainError as refused:
        return refused
    return None


def application(db: Database, session_id: str) -> Application:
    at = now()
    with db.transaction() as session:
        owner, record = _open(session, session_id)
        refusal = _refusal(session, owner, record, at)
        quote = QUOTES.get(session, owner, record["quote"])  # quotes are never deleted
        try:
            found = policies.parties(session, owner, quote)
        except DomainError:
            found = {}  # the refusal says which party is gone
        contractor = found.get("contractor") or {}
        return Application(
            session=present(record, at),
            contractor_name=" ".join(
                filter(None, (contractor.get("first_name"), contractor.get("last_name")))
            ),
            job_name=(found.get("job") or {}).get("name", ""),
            entity_name=(found.get("entity") or {}).get("name", ""),
            coverages=[
                Coverage(
                    name=rating.COVERAGE_NAMES[coverage],
                    net_rate=quote["quote_json"][rating.COVERAGE_KEYS[coverage]]["net_rate"],
                )
                for coverage in quote["coverage_type"]
            ],
            net_rate=quote["net_rate"],
            effective_date=quote["effective_date"],
            end_date=quote["end_date"],
            refusal=refusal,
        )


def accept(db: Database, session_id: str) -> dict[str, Any]:
    """Bind the quote's policy and complete the session, in one transaction; the session row
    is locked, so a double submit completes it once (the second is
    `application_already_complete`)."""
    at = now()
    with db.transaction() as session:
        owner, record = _open(session, session_id)
        refusal = _refusal(session, owner, record, at)
        if refusal is not None:
            raise refusal
        policy = policies.bind(session, owner, {"quote": record["quote"]}, at)
        record = APPLICATION_SESSIONS.save(
            session, owner, session_id, {"completed_at": at, "policy": policy["id"]}
        )
        application = present(record, at)
        events.record(session, owner, "application.complete", events.APPLICATION, application, at)
        return application


def decline(db: Database, session_id: str) -> dict[str, Any]:
    """The contractor leaves without binding; the session stays open until it expires."""
    with db.transaction() as session:
        _owner, record = _open(session, session_id)
        return present(record, now())
