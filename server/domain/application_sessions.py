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
# How long the sandbox's manual review of an application takes (the reference: "within 24
# hours"); test clocks reach it at once.
REVIEW_TIME = 3600
Status = Literal["open", "complete", "expired"]
OPEN: Status = "open"
COMPLETE: Status = "complete"
EXPIRED: Status = "expired"


def in_review(record: dict[str, Any]) -> bool:
    """Whether the application waits for its manual review's outcome."""
    return record["review_ends_at"] is not None and not record["review_announced"]


def status_of(record: dict[str, Any], at: int) -> Status:
    if record["completed_at"] is not None:
        return COMPLETE
    if in_review(record):  # open until the review's outcome, whatever its expiry
        return OPEN
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
            "started": False,
            "ineligibility_announced": False,
            "review_ends_at": None,
            "review_announced": False,
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
    """Why the session is over, if it is: completed, or expired; or why it waits: in review."""
    if in_review(record):
        return InvalidRequest(
            "This application is in manual review: you will hear of its outcome within 24 hours.",
            code="application_in_review",
        )
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


def unannounced(application: Application) -> bool:
    """Whether the page, opened, has something to announce (`opened`): its start, or an
    ineligibility found since."""
    session = application.session
    return not session["started"] or (
        _not_eligible(application.refusal) and not session["ineligibility_announced"]
    )


def opened(uow: UnitOfWork, record: dict[str, Any]) -> None:
    """The contractor opened the hosted page of an open session: `application.started` the
    first time, and `application.ineligible` the first time it cannot be bound because its
    quote is not eligible (any longer)."""
    if status_of(record, uow.now) != OPEN:
        return
    if uow.application_sessions.mark(record["id"], "started"):
        uow.publish("application.started", events.APPLICATION, record)
    if _not_eligible(_refusal(uow, record)):
        _announce_ineligible(uow, record)


def _not_eligible(refusal: DomainError | None) -> bool:
    return refusal is not None and refusal.code == policies.NOT_ELIGIBLE


def _announce_ineligible(uow: UnitOfWork, record: dict) -> None:
    """`application.ineligible`, once per session."""
    if uow.application_sessions.mark(record["id"], "ineligibility_announced"):
        uow.publish("application.ineligible", events.APPLICATION, record)


def accept(
    uow: UnitOfWork, record: dict[str, Any], *, claims_reported: bool = False
) -> dict[str, Any]:
    """Bind the quote's policy and complete the session, in one unit of work; the caller holds
    the session row locked, so a double submit completes it once (the second is
    `application_already_complete`). A contractor who reports claims or losses in the last
    three years is sent to manual review instead: `application.manual_review`, and the outcome
    REVIEW_TIME later (`end_review`)."""
    refusal = _refusal(uow, record)
    if refusal is not None:  # its page said why, and announced an ineligible one
        raise refusal
    if claims_reported:
        review_ends_at = uow.now + REVIEW_TIME
        reviewing = uow.application_sessions.update(
            record["id"],
            {
                "review_ends_at": review_ends_at,
                "expires_at": max(record["expires_at"], review_ends_at),
            },
        )
        uow.publish("application.manual_review", events.APPLICATION, reviewing)
        return reviewing
    return _complete(uow, record)


def _complete(uow: UnitOfWork, record: dict[str, Any], *, reviewed: bool = False) -> dict:
    policy = policies.bind(uow, {"quote": record["quote"]})
    completed = uow.application_sessions.update(
        record["id"], {"completed_at": uow.now, "policy": policy["id"]}
    )
    if reviewed:
        uow.publish("application.manual_review_approved", events.APPLICATION, completed)
    uow.publish("application.complete", events.APPLICATION, completed)
    return completed


def end_review(uow: UnitOfWork, session_id: str) -> None:
    """The manual review's outcome, once its time has come: the sandbox approves every review
    (`application.manual_review_approved`) and binds the coverage (`application.complete`), or,
    when the quote can no longer be bound, announces `application.ineligible`."""
    record = uow.application_sessions.locked(session_id)
    if record is None or not in_review(record) or record["review_ends_at"] > uow.now:
        return
    uow.application_sessions.mark(session_id, "review_announced")
    reviewed = {**record, "review_announced": True}
    try:
        policies.bindable_quote(uow, record["quote"])
    except DomainError:  # not eligible any longer, a party deleted, bound meanwhile
        _announce_ineligible(uow, reviewed)
        return
    _complete(uow, reviewed, reviewed=True)
