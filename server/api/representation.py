"""The API's JSON of every resource: one pure function per resource, from its stored record.

Responses, lists, events and webhook deliveries all go through these functions, so an object
reads the same wherever it appears. Each returns the resource's type generated from openapi.yaml
(server/contract/schemas.py), so that mypy names any field written here that the contract does
not have, or lacks. Links (a policy's `pdf_url`, a session's `url`) are made on `base`, where the
caller reaches this server; events keep them as paths (base ""), and `event()` puts them on the
reader's base when it shows one. Statuses that time changes (a policy expires, a session too)
are as of `at`: now for a response, the event's time for an event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict, cast

from server.contract import schemas
from server.core.links import application_path, file_path
from server.domain import application_sessions, events, invoices, policies, rating

Record = dict[str, Any]

Deleted = (
    schemas.DeletedContractor
    | schemas.DeletedEntity
    | schemas.DeletedJob
    | schemas.DeletedPolicy
    | schemas.DeletedAssignment
    | schemas.DeletedInvoice
    | schemas.DeletedWebhookEndpoint
    | schemas.DeletedTestClock
)
# What an event's `data.object` may be: a resource, or the deletion of one that has events.
DeletedWithEvents = schemas.DeletedContractor | schemas.DeletedAssignment | schemas.DeletedInvoice
EventObject = (
    schemas.Contractor
    | schemas.Quote
    | schemas.ApplicationSession
    | schemas.Policy
    | schemas.Assignment
    | schemas.Invoice
    | schemas.Certificate
    | schemas.JobCategory
    | DeletedWithEvents
)
DeletedKind = Literal[
    "contractor",
    "entity",
    "job",
    "policy",
    "assignment",
    "invoice",
    "webhook_endpoint",
    "test_clock",
    "snapshot",
]


def _address(address: Record) -> schemas.Address:
    """A postal address; the optional lines not given are null."""
    return {
        "line1": address["line1"],
        "line2": address.get("line2"),
        "locality": address["locality"],
        "region": address["region"],
        "postalcode": address["postalcode"],
        "country": address.get("country"),
    }


def _add_rates(shown: schemas.Quote | schemas.Assignment, breakdown: Record) -> None:
    """The rate of each coverage quoted, at the top level too (`gl_net_rate`, ...): only the
    quoted ones."""
    fields = cast(dict[str, Any], shown)  # the keys are the contract's, made from rating's
    for key in rating.COVERAGE_KEYS.values():
        if key in breakdown:
            fields[f"{key}_net_rate"] = breakdown[key]["net_rate"]


def contractor(record: Record, *, live: bool) -> schemas.Contractor:
    return {
        "id": record["id"],
        "object": "contractor",
        "livemode": live,
        "created": record["created"],
        "first_name": record["first_name"],
        "middle_name": record["middle_name"],
        "last_name": record["last_name"],
        "email": record["email"],
        "phone": record["phone"],
        "company_name": record["company_name"],
        "years_experience": record["years_experience"],
        "address": _address(record["address"]),
        "custom_metadata": record["custom_metadata"],
    }


def entity(record: Record, *, live: bool) -> schemas.Entity:
    return {
        "id": record["id"],
        "object": "entity",
        "livemode": live,
        "created": record["created"],
        "name": record["name"],
        "address": None if record["address"] is None else _address(record["address"]),
        "coverage_limit": record["coverage_limit"],
        "required_coverage": record["required_coverage"],
    }


def job(record: Record, *, live: bool) -> schemas.Job:
    # A job's address has only the parts given (line1 may be absent, not null).
    return {
        "id": record["id"],
        "object": "job",
        "livemode": live,
        "created": record["created"],
        "name": record["name"],
        "description": record["description"],
        "entity": record["entity"],
        "category_code": record["category_code"],
        "wage": record["wage"],
        "wage_type": record["wage_type"],
        "years_experience": record["years_experience"],
        "duration_hours": record["duration_hours"],
        "address": record["address"],
    }


def job_category(record: Record, *, live: bool) -> schemas.JobCategory:
    return {
        "id": record["id"],
        "object": "job_category",
        "livemode": live,
        "created": record["created"],
        "name": record["name"],
        "description": record["description"],
        "risk_class": record["risk_class"],
        "available_coverage": record["available_coverage"],
        "approved": record["approved"],
    }


class _Rated(TypedDict):
    """What quotes and assignments share: who, what, when, and the rating."""

    id: str
    created: int
    contractor: str
    job: str
    coverage_type: list[rating.CoverageType]
    effective_date: int
    end_date: int
    net_rate: int


def _rated(record: Record) -> _Rated:
    return {
        "id": record["id"],
        "created": record["created"],
        "contractor": record["contractor"],
        "job": record["job"],
        "coverage_type": record["coverage_type"],
        "effective_date": record["effective_date"],
        "end_date": record["end_date"],
        "net_rate": record["net_rate"],
    }


def quote(record: Record, *, live: bool) -> schemas.Quote:
    shown: schemas.Quote = {
        **_rated(record),
        "object": "quote",
        "livemode": live,
        "eligible": record["eligible"],
        "eligibility_message": record["eligibility_message"],
        "quote_json": record["quote_json"],
    }
    _add_rates(shown, record["quote_json"])
    return shown


def assignment(record: Record, base: str, *, live: bool) -> schemas.Assignment:
    """A bound assignment shows its policy and certificates (links on `base`); an unbound one
    its rating. Eligibility is an object, as the current reference shows it (quotes keep their
    boolean)."""
    shown: schemas.Assignment = {
        **_rated(record),
        "object": "assignment",
        "livemode": live,
        "eligible": {"result": record["eligible"], "message": record["eligibility_message"] or ""},
        "bind": record["bind"],
        "cancelled": record["cancelled"],
        "cancellation_date": record["cancellation_date"],
        "cancellation_reason": record["cancellation_reason"],
    }
    if record["bind"]:
        shown["policy"] = record["policy"]
        shown["certificates"] = _certificates(record["certificates"] or {}, base)
        shown["certificate_refresh_pending"] = record["certificate_refresh_pending"]
    else:
        shown["quote_json"] = record["quote_json"]
        _add_rates(shown, record["quote_json"])
    return shown


def _certificates(tokens: dict[str, str], base: str) -> schemas.Certificates:
    """The link to each coverage's certificate (`gl_coi_pdf_url`, ...): only those issued."""
    links: dict[str, str] = {}
    for key in rating.COVERAGE_KEYS.values():
        if key in tokens:
            links[f"{key}_coi_pdf_url"] = base + file_path(tokens[key])
    return cast(schemas.Certificates, links)


def policy(record: Record, at: int, base: str, *, live: bool) -> schemas.Policy:
    status = policies.status_of(record, at)
    token = record["document"]
    return {
        "id": record["id"],
        "object": "policy",
        "livemode": live,
        "created": record["created"],
        "quote": record["quote"],
        "effective_date": record["effective_date"],
        "expiration_date": record["expiration_date"],
        "status": status,
        "is_active": status == policies.ACTIVE,
        "pdf_url": None if token is None else base + file_path(token),
    }


def application_session(
    record: Record, at: int, base: str, *, live: bool
) -> schemas.ApplicationSession:
    return {
        "id": record["id"],
        "object": "application_session",
        "livemode": live,
        "created": record["created"],
        "quote": record["quote"],
        "url": base + application_path(record["id"]),
        "success_url": record["success_url"],
        "cancel_url": record["cancel_url"],
        "expires_at": record["expires_at"],
        "status": application_sessions.status_of(record, at),
        "policy": record["policy"],
    }


def invoice(record: Record, *, live: bool) -> schemas.Invoice:
    return {
        "id": record["id"],
        "object": "invoice",
        "livemode": live,
        "created": record["created"],
        "contractor": record["contractor"],
        "job": record["job"],
        "policy": record["policy"],
        "gross_pay": record["gross_pay"],
        "paycycle_startdate": record["paycycle_startdate"],
        "paycycle_enddate": record["paycycle_enddate"],
        "currency": "usd",
        "premium": record["premium"],
        "lines": record["lines"],
        "status": invoices.status_of(record),
        "paid_at": record["paid_at"],
    }


def deletion(object_id: str, kind: DeletedKind, deleted_at: int, *, live: bool) -> Deleted:
    # One shape for every kind; a type checker cannot tell which kind a variable names.
    shown = {
        "id": object_id,
        "object": kind,
        "livemode": live,
        "deleted": True,
        "deleted_at": deleted_at,
    }
    return cast(Deleted, shown)


def webhook_endpoint(record: Record, *, live: bool) -> schemas.WebhookEndpoint:
    return {
        "id": record["id"],
        "object": "webhook_endpoint",
        "livemode": live,
        "created": record["created"],
        "url": record["url"],
        "description": record["description"],
        "enabled_events": record["enabled_events"],
        "events": record["enabled_events"],  # the current reference's name for the same list
        "status": record["status"],
    }


def webhook_endpoint_with_secret(
    record: Record, *, live: bool
) -> schemas.WebhookEndpointWithSecret:
    """Only the creation answer shows the secret."""
    return {**webhook_endpoint(record, live=live), "secret": record["secret"]}


def test_clock(record: Record, *, live: bool) -> schemas.TestClock:
    return {
        "id": record["id"],
        "object": "test_clock",
        "livemode": live,
        "created": record["created"],
        "name": record["name"],
        "frozen_time": record["frozen_time"],
        "status": record["status"],
        "advancing_to": record["advancing_to"],
    }


def snapshot(record: Record) -> schemas.Snapshot:
    return {
        "id": record["id"],
        "object": "snapshot",
        "livemode": False,
        "created": record["created"],
        "name": record["name"],
        "objects": record["objects"],
        "size": record["size"],
        "frozen_time": record["frozen_time"],
    }


def sandbox_reset(reset_at: int) -> schemas.SandboxReset:
    return {"object": "sandbox_reset", "livemode": False, "reset_at": reset_at}


def request_log(record: Record) -> schemas.RequestLog:
    return {
        "id": record["id"],
        "object": "request_log",
        "livemode": False,
        "created": record["created"],
        "method": record["method"],
        "path": record["path"],
        "operation_id": record["operation_id"],
        "status": record["status"],
        "duration_ms": record["duration_us"] / 1000,
        "error_code": record["error_code"],
        "idempotency_key": record["idempotency_key"],
        "idempotent_replayed": record["idempotent_replayed"],
        "test_fault": record["test_fault"],
        "request_body": record["request_body"],
        "response_body": record["response_body"],
    }


def webhook_delivery(record: Record, *, live: bool) -> schemas.WebhookDelivery:
    return {
        "id": record["id"],
        "object": "webhook_delivery",
        "livemode": live,
        "created": record["created"],
        "webhook_endpoint": record["endpoint_id"],
        "event": record["event_id"],
        "event_type": record["event_type"],
        "status": record["status"],
        "attempts": record["attempts"],
        "next_attempt_at": record["next_attempt_at"],
    }


# What `expand[]` may ask of a certificate's review: its summary, or all of it.
REVIEW_SUMMARY, REVIEW_FULL = "review_results", "review_results.full"
_SUMMARY_FIELDS = ("id", "status", "summary", "created")


def certificate(
    record: Record, base: str, *, live: bool, expand: Sequence[str] = ()
) -> schemas.Certificate:
    """An uploaded certificate; its review's outcome only where `expand` asks for it."""
    review = record["review"]
    shown_review = None
    if review is not None and REVIEW_FULL in expand:
        shown_review = review
    elif review is not None and REVIEW_SUMMARY in expand:
        shown_review = {name: review[name] for name in _SUMMARY_FIELDS}
    return {
        "id": record["id"],
        "object": "certificate",
        "livemode": live,
        "contractor": record["contractor"],
        "status": record["status"],
        "created": record["created"],
        "updated": record["updated"],
        "filename": record["filename"],
        "pdf_url": base + file_path(record["document"]),
        "review_results": cast(schemas.ReviewResults | None, shown_review),
    }


# How an event shows the record it carries, by its kind: (record, at, base, live) -> JSON.
_EVENT_OBJECTS: dict[str, Callable[[Record, int, str, bool], EventObject]] = {
    events.CONTRACTOR: lambda record, at, base, live: contractor(record, live=live),
    events.QUOTE: lambda record, at, base, live: quote(record, live=live),
    events.APPLICATION: lambda record, at, base, live: application_session(
        record, at, base, live=live
    ),
    events.POLICY: lambda record, at, base, live: policy(record, at, base, live=live),
    events.ASSIGNMENT: lambda record, at, base, live: assignment(record, base, live=live),
    events.INVOICE: lambda record, at, base, live: invoice(record, live=live),
    events.JOB_CATEGORY: lambda record, at, base, live: job_category(record, live=live),
    # The outcome's summary: the event says what became of the certificate.
    events.CERTIFICATE: lambda record, at, base, live: certificate(
        record, base, live=live, expand=(REVIEW_SUMMARY,)
    ),
    events.DELETED: lambda record, at, base, live: cast(
        DeletedWithEvents,
        deletion(record["id"], record["object"], record["deleted_at"], live=live),
    ),
}


def event(record: Record, base: str, *, live: bool) -> schemas.Event:
    """An event, its object as it was at the event's time."""
    kind, data = record["object_kind"], record["data"]
    shown = _EVENT_OBJECTS[kind](data, record["created"], base, live)
    return {
        "id": record["id"],
        "object": "event",
        "livemode": live,
        "type": record["type"],
        "created": record["created"],
        "data": {"object": shown},
    }
