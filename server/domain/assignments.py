"""Assignments: a contractor on a job, rated like a quote, bound to the contractor's active
policy when it covers them; extension, and the certificates of insurance regenerated after it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain import events, outbox, policies, quotes, rating
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest, NotFound
from server.domain.pagination import PageRequest
from server.domain.terms import MAX_TERM, check_term
from server.pdf.certificate import CertificateDocument, render_certificate
from server.pdf.layout import format_date
from server.store import assignments as queries
from server.store import documents, tasks
from server.store.assignments import ASSIGNMENTS
from server.store.contractors import CONTRACTORS
from server.store.db import Database
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.policies import POLICIES, in_force_for_contractor
from server.store.quotes import QUOTES

REFRESH_CERTIFICATES = "refresh_certificates"


def present(record: dict[str, Any]) -> dict[str, Any]:
    """The API's assignment. A bound one shows its policy and certificates (coverage key ->
    document token, which the caller turns into a path); an unbound one its rating."""
    shown = {
        name: record[name]
        for name in (
            "id",
            "object",
            "created",
            "contractor",
            "job",
            "coverage_type",
            "effective_date",
            "end_date",
            "eligible",
            "eligibility_message",
            "net_rate",
            "bind",
        )
    }
    if record["bind"]:
        shown["policy"] = record["policy"]
        shown["certificates"] = record["certificates"] or {}
        shown["certificate_refresh_pending"] = record["certificate_refresh_pending"]
    else:
        shown["quote_json"] = record["quote_json"]
        shown.update(quotes.per_coverage_rates(record["quote_json"]))
    return shown


def _covering_policy(session: Session, principal: Principal, fields: dict, at: int) -> dict | None:
    """The contractor's newest active policy that covers every coverage type asked for and can
    last through the assignment's end, if the assignment is eligible."""
    if not fields["eligible"]:
        return None
    wanted = set(fields["coverage_type"])
    candidates = in_force_for_contractor(session, principal, fields["contractor"], at)
    for policy in sorted(candidates, key=lambda p: p["created"], reverse=True):
        quote = QUOTES.find(session, principal, policy["quote"])
        if (
            quote is not None
            and wanted <= set(quote["coverage_type"])
            and policies.can_cover_through(policy, fields["end_date"])
        ):
            return policy
    return None


def _bound_to(session: Session, principal: Principal, fields: dict, at: int) -> dict:
    """The binding fields: to a covering policy (lengthened to the assignment's end if need
    be), with certificates still to generate; or none."""
    policy = _covering_policy(session, principal, fields, at)
    if policy is None:
        return {"bind": False, "policy": None, "certificates": None}
    policies.cover_through(session, principal, policy, fields["end_date"], at)
    return {"bind": True, "policy": policy["id"], "certificates": {}}


def _request_certificates(
    session: Session,
    principal: Principal,
    assignment: dict,
    at: int,
    *,
    send_email: bool = False,
    extended: bool = False,
) -> None:
    """Mark the certificates stale and queue their regeneration, in the caller's transaction:
    the work is recorded before the response is sent, so a restart cannot lose it. After an
    extension, the regeneration reports it (`assignment.extended`, with the fresh URLs)."""
    queries.save_any(session, assignment["id"], {"certificate_refresh_pending": True})
    payload = {"send_email": send_email, "extended": extended}
    tasks.enqueue(session, principal, REFRESH_CERTIFICATES, assignment["id"], payload, at)


def _check_dates(fields: dict, given: dict, at: int) -> None:
    check_term(
        fields["effective_date"],
        fields["end_date"],
        at,
        effective_given="effective_date" in given,
        starts_now=False,
    )


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    at = now()
    dated = quotes.default_dates(fields, at)
    _check_dates(dated, fields, at)
    with db.transaction() as session:
        rated = quotes.rated(session, principal, dated)
        live = queries.live_for_job(session, principal, rated["job"])
        if live is not None:
            raise _job_has_assignment(rated["job"], live["id"])
        binding = _bound_to(session, principal, rated, at)
        try:
            record = queries.insert(
                session,
                principal,
                {**rated, **binding, "certificate_refresh_pending": False},
            )
        except queries.JobHasAssignment:
            raise _job_has_assignment(rated["job"], "made by a concurrent request") from None
        if record["bind"]:
            _request_certificates(session, principal, record, at)
        assignment = present(ASSIGNMENTS.get(session, principal, record["id"]))
        _record(session, principal, "assignment.created", assignment, at)
        return assignment


def _record(
    session: Session, principal: Principal, event_type: str, assignment: dict, at: int
) -> None:
    """Record the event, and `assignment.active` with it when the change bound the assignment."""
    events.record(session, principal, event_type, events.ASSIGNMENT, assignment, at)
    if assignment["bind"]:
        events.record(session, principal, "assignment.active", events.ASSIGNMENT, assignment, at)


def record_coverage_change(
    session: Session, principal: Principal, policy_id: str, *, active: bool, at: int
) -> None:
    """The events of the assignments bound to a policy that was cancelled or reactivated."""
    event_type = "assignment.active" if active else "assignment.cancelled"
    for record in queries.live_for_policy(session, principal, policy_id):
        events.record(session, principal, event_type, events.ASSIGNMENT, present(record), at)


def _job_has_assignment(job_id: str, assignment: str) -> InvalidRequest:
    return InvalidRequest(
        f"The job {job_id} already has the assignment {assignment}.",
        code="job_has_assignment",
        param="job",
    )


def retrieve(db: Database, principal: Principal, assignment_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return present(ASSIGNMENTS.get(session, principal, assignment_id))


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return [present(r) for r in ASSIGNMENTS.list_(session, principal, page)]


def update(
    db: Database, principal: Principal, assignment_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    at = now()
    with db.transaction() as session:
        record = ASSIGNMENTS.get(session, principal, assignment_id)
        changed = [name for name in changes if changes[name] != record[name]]
        if record["bind"] and changed:
            if "end_date" in changed:
                raise InvalidRequest(
                    "Use POST /api/v1/assignments/extend to change a bound end_date.",
                    code="use_extend_endpoint",
                    param="end_date",
                )
            raise InvalidRequest(
                f"The assignment {assignment_id} is bound; its {changed[0]} cannot change.",
                code="assignment_is_bound",
                param=changed[0],
            )
        if not changed:
            return present(record)
        fields = {**record, **changes}
        _check_dates(fields, changes, at)
        rated = quotes.rated(session, principal, fields)
        binding = _bound_to(session, principal, rated, at)
        record = ASSIGNMENTS.save(session, principal, assignment_id, {**rated, **binding})
        if record["bind"]:
            _request_certificates(session, principal, record, at)
        assignment = present(ASSIGNMENTS.get(session, principal, assignment_id))
        _record(session, principal, "assignment.updated", assignment, at)
        return assignment


def delete(db: Database, principal: Principal, assignment_id: str) -> int:
    """Void the assignment: its coverage of the job ends and its certificates stop being
    served. Returns when."""
    at = now()
    with db.transaction() as session:
        record = ASSIGNMENTS.get(session, principal, assignment_id)
        for token in (record["certificates"] or {}).values():
            documents.drop(session, token)
        queries.mark_deleted(session, assignment_id, at)
        policy = POLICIES.find(session, principal, record["policy"]) if record["bind"] else None
        if policy is not None and not policy["cancelled"]:  # its coverage ends now
            voided = {**record, "certificates": None, "certificate_refresh_pending": False}
            events.record(
                session, principal, "assignment.cancelled", events.ASSIGNMENT, present(voided), at
            )
        deletion = events.deletion(assignment_id, "assignment", at)
        events.record(session, principal, "assignment.deleted", events.DELETED, deletion, at)
    return at


def extend(
    db: Database, principal: Principal, job_id: str, end_date: int, *, send_email: bool
) -> dict[str, Any]:
    at = now()
    with db.transaction() as session:
        JOBS.row(session, principal, job_id, param="job_id")
        record = queries.latest_for_job(session, principal, job_id)
        if record is None:
            raise NotFound("assignment for the job", job_id, param="job_id")
        _check_extension(session, principal, record, end_date, at, send_email=send_email)
        if end_date != record["end_date"]:
            queries.save_any(session, record["id"], {"end_date": end_date})
            policy = POLICIES.get(session, principal, record["policy"])
            policies.cover_through(session, principal, policy, end_date, at)
        current = ASSIGNMENTS.get(session, principal, record["id"])
        _request_certificates(session, principal, current, at, send_email=send_email, extended=True)
        # The answer shows the certificates as they are: stale until the regeneration is done.
        return present({**current, "certificate_refresh_pending": True})


def _check_extension(
    session: Session,
    principal: Principal,
    record: dict,
    end_date: int,
    at: int,
    *,
    send_email: bool,
) -> None:
    """The extend document's 400s, in its order: voided or cancelled, expired, shortening, more
    than a year; then the no-op that the email forbids."""
    assignment_id = record["id"]
    if record["deleted_at"] is not None:
        raise _refused(f"The assignment {assignment_id} has been voided.", "assignment_cancelled")
    if not record["bind"]:
        raise _refused(f"The assignment {assignment_id} is not bound.", "assignment_not_bound")
    policy = POLICIES.find(session, principal, record["policy"])
    if policy is None or policy["cancelled"]:
        raise _refused(
            f"The policy {record['policy']} of the assignment has been cancelled.",
            "assignment_cancelled",
        )
    if record["end_date"] <= at or policy["expiration_date"] <= at:
        raise _refused(
            f"The coverage of the assignment {assignment_id} has already ended.", "coverage_expired"
        )
    if end_date < record["end_date"]:
        raise _refused(
            f"end_date must be on or after the current end date ({record['end_date']}).",
            "cannot_shorten_coverage",
            param="end_date",
        )
    if end_date > record["effective_date"] + MAX_TERM:
        raise _refused(
            "end_date must be within one year of the effective date.",
            "end_date_invalid",
            param="end_date",
        )
    if not policies.can_cover_through(policy, end_date):
        raise _refused(
            f"end_date must be within one year of the effective date of the policy {policy['id']}"
            f" ({policy['effective_date']}).",
            "end_date_invalid",
            param="end_date",
        )
    if end_date == record["end_date"] and send_email:
        raise _refused(
            f"end_date is already {end_date}: there is no extension to email the contractor "
            "about. Send send_email: false to regenerate the certificates only.",
            "end_date_unchanged",
            param="end_date",
        )


def _refused(message: str, code: str, *, param: str = "job_id") -> InvalidRequest:
    return InvalidRequest(message, code=code, param=param)


def refresh_certificates(
    session: Session,
    principal: Principal,
    assignment_id: str,
    payload: dict,
    outbound: outbox.Outbound,
) -> None:
    """The background half of binding and extending: render a certificate for each coverage
    type with the assignment's current period, replace the old ones (whose URLs stop working),
    and email the contractor if asked. A voided assignment gets none."""
    at = now()
    record = queries.find_any(session, assignment_id)
    if record is None or record["deleted_at"] is not None or not record["bind"]:
        return
    policy = POLICIES.find(session, principal, record["policy"])
    facts = policy["document_facts"] if policy else None
    job = JOBS.find(session, principal, record["job"])
    entity = ENTITIES.find(session, principal, job["entity"]) if job else None
    limits = (entity or {}).get("coverage_limit") or rating.rate_table().standard_limits
    old = record["certificates"] or {}
    fresh = {}
    for coverage in record["coverage_type"]:
        key = rating.COVERAGE_KEYS[coverage]
        content = render_certificate(
            CertificateDocument(
                certificate_number=f"{assignment_id}-{key}",
                coverage_name=rating.COVERAGE_NAMES[coverage],
                occurrence_limit=limits["occurrence_limit"],
                aggregate_limit=limits["aggregate_limit"],
                policy_number=record["policy"],
                insured_name=facts["insured_name"] if facts else record["contractor"],
                insured_address=facts["insured_address"] if facts else [],
                holder_name=entity["name"] if entity else (job or {}).get("entity", ""),
                job_name=job["name"] if job else record["job"],
                effective_date=record["effective_date"],
                end_date=record["end_date"],
                issued=at,
            )
        )
        filename = f"{key}_coi_{assignment_id}.pdf"
        fresh[key] = documents.put(session, principal, filename, "application/pdf", content)
    for token in old.values():
        documents.drop(session, token)
    queries.save_any(
        session, assignment_id, {"certificates": fresh, "certificate_refresh_pending": False}
    )
    if payload.get("extended"):
        refreshed = present(ASSIGNMENTS.get(session, principal, assignment_id))
        events.record(session, principal, "assignment.extended", events.ASSIGNMENT, refreshed, at)
    if payload.get("send_email"):
        _email_extension(session, principal, {**record, "certificates": fresh}, job, outbound, at)


def _email_extension(
    session: Session,
    principal: Principal,
    record: dict,
    job: dict | None,
    outbound: outbox.Outbound,
    at: int,
) -> None:
    contractor = CONTRACTORS.find(session, principal, record["contractor"])
    if contractor is None:
        return
    job_name = job["name"] if job else record["job"]
    lines = [
        f"Hello {contractor['first_name']},",
        "",
        f"Your insurance coverage for {job_name} (assignment {record['id']}) has been extended.",
        f"It now runs from {format_date(record['effective_date'])} "
        f"to {format_date(record['end_date'])} (UTC).",
        "",
        "Your certificates of insurance:",
        *(
            f"  {rating.COVERAGE_NAMES[coverage]}: "
            f"{outbound.file_url(record['certificates'][rating.COVERAGE_KEYS[coverage]])}"
            for coverage in record["coverage_type"]
        ),
        "",
        "1099Policy",
    ]
    outbox.send(
        session,
        principal,
        outbound,
        recipient=contractor["email"],
        subject=f"Your coverage for {job_name} is extended to {format_date(record['end_date'])}",
        body="\n".join(lines),
        about=record["id"],
        at=at,
    )
