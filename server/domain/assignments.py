"""Assignments: a contractor on a job, rated like a quote, bound to the contractor's active
policy when it covers them (or to the policy named); extension; cancellation before the start.
Their certificates of insurance are rendered by the background worker
(server/worker/certificates.py), and the contractor told of a cancellation
(server/worker/cancellations.py), both queued here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, NotFound
from server.core.pagination import PageRequest
from server.domain import events, policies, quotes, rating, required
from server.domain.terms import MAX_TERM
from server.store.assignments import JobHasAssignment
from server.store.unit_of_work import Task, UnitOfWork

REFRESH_CERTIFICATES = "refresh_certificates"
NOTIFY_CANCELLATION = "notify_cancellation"
_UNBOUND = {"bind": False, "policy": None, "certificates": None}


def _covers(uow: UnitOfWork, policy: dict, fields: dict) -> bool:
    """Whether the policy covers every coverage type asked for and can last through the end."""
    quote = uow.quotes.get(policy["quote"])
    return (
        quote is not None
        and set(fields["coverage_type"]) <= set(quote["coverage_type"])
        and policies.can_cover_through(policy, fields["end_date"])
    )


def _covering_policy(uow: UnitOfWork, fields: dict, named: str | None) -> dict | None:
    """The policy `named`, which must exist (404) and be an active policy of the contractor
    that covers the assignment (400); else the contractor's newest such policy. None when the
    assignment is not eligible."""
    if named is not None:
        required(uow.policies.get(named), "policy", named, param="policy", code="invalid_policy_id")
    if not fields["eligible"]:
        return None
    candidates = uow.policies.in_force_for_contractor(fields["contractor"], uow.now)
    newest_first = sorted(candidates, key=lambda p: p["created"], reverse=True)
    covering = [p for p in newest_first if named in (None, p["id"]) and _covers(uow, p, fields)]
    if named is not None and not covering:
        raise InvalidRequest(
            f"The policy {named} is not an active policy of the contractor "
            f"{fields['contractor']} covering {', '.join(fields['coverage_type'])} through "
            f"{fields['end_date']}.",
            code="no_active_policy",
            param="policy",
        )
    return covering[0] if covering else None


def _bound_to(uow: UnitOfWork, fields: dict, *, wanted: bool, named: str | None) -> dict:
    """The binding fields: to a covering policy (lengthened to the assignment's end if need
    be), with certificates still to generate; or none, also when binding is not `wanted`."""
    if not wanted:
        if named is not None:
            raise InvalidRequest(
                "policy names the policy to bind to: it cannot be sent with bind false.",
                param="policy",
            )
        return _UNBOUND
    policy = _covering_policy(uow, fields, named)
    if policy is None:
        return _UNBOUND
    policies.cover_through(uow, policy, fields["end_date"])
    return {"bind": True, "policy": policy["id"], "certificates": {}}


def _request_certificates(
    uow: UnitOfWork, assignment_id: str, *, send_email: bool = False, extended: bool = False
) -> None:
    """Mark the certificates stale and queue their regeneration in this unit of work: the work
    is recorded before the response is sent, so a restart cannot lose it. After an extension,
    the regeneration reports it (`assignment.extended`, with the fresh URLs)."""
    uow.assignments.set(assignment_id, {"certificate_refresh_pending": True})
    payload = {"send_email": send_email, "extended": extended}
    uow.enqueue(Task(REFRESH_CERTIFICATES, assignment_id, payload))


def _default_coverage(uow: UnitOfWork, job_id: str) -> list[rating.CoverageType]:
    """What an assignment asks for when it names no coverage: what the job's entity requires,
    or general liability (which every job category carries) when it requires none."""
    job = uow.jobs.get(job_id)
    entity = uow.entities.get(job["entity"]) if job is not None else None
    return (entity or {}).get("required_coverage") or ["general"]


def _without_binding(body: Mapping[str, Any]) -> dict[str, Any]:
    """A body's fields of the assignment itself: `bind` and `policy` say how to bind it."""
    return {name: value for name, value in body.items() if name not in ("bind", "policy")}


def create(uow: UnitOfWork, body: schemas.AssignmentCreate) -> dict[str, Any]:
    fields = _without_binding(body)
    wanted = body.get("bind", True)
    if "coverage_type" not in fields:
        fields["coverage_type"] = _default_coverage(uow, fields["job"])
    dated = quotes.checked_dates(quotes.default_dates(fields, uow.now), fields, uow.now)
    rated = quotes.rated(uow, dated)
    live = uow.assignments.live_for_job(rated["job"])
    if live is not None:
        raise _job_has_assignment(rated["job"], live["id"])
    binding = _bound_to(uow, rated, wanted=wanted, named=body.get("policy"))
    try:
        record = uow.assignments.add(
            {
                **rated,
                **binding,
                "bind_requested": wanted,
                "certificate_refresh_pending": False,
                "cancelled": False,
            },
            uow.now,
        )
    except JobHasAssignment:
        raise _job_has_assignment(rated["job"], "made by a concurrent request") from None
    if record["bind"]:
        _request_certificates(uow, record["id"])
        record = {**record, "certificate_refresh_pending": True}
    _publish(uow, "assignment.created", record)
    return record


def _publish(uow: UnitOfWork, event_type: str, assignment: dict) -> None:
    """Publish the event, and `assignment.active` with it when the change bound the
    assignment."""
    uow.publish(event_type, events.ASSIGNMENT, assignment)
    if assignment["bind"]:
        uow.publish("assignment.active", events.ASSIGNMENT, assignment)


def _job_has_assignment(job_id: str, assignment: str) -> InvalidRequest:
    return InvalidRequest(
        f"The job {job_id} already has the assignment {assignment}.",
        code="job_has_assignment",
        param="job",
    )


def retrieve(uow: UnitOfWork, assignment_id: str) -> dict[str, Any]:
    found = uow.assignments.get(assignment_id)
    return required(found, "assignment", assignment_id, param="assignment_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.assignments.page(page)


def update(
    uow: UnitOfWork, assignment_id: str, changes: schemas.AssignmentUpdate
) -> dict[str, Any]:
    record = retrieve(uow, assignment_id)
    if record["cancelled"]:
        raise _cancelled(record, param="assignment_id")
    given: Mapping[str, Any] = changes
    changed = [name for name in given if given[name] != record[name]]
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
    if not changed and record["bind"]:
        return record
    # An unbound assignment is rated again, and bound if it now can be, even by a PUT that
    # changes nothing (the contractor may hold a covering policy since).
    wanted = given.get("bind", record["bind_requested"])
    fields = quotes.checked_dates({**record, **_without_binding(given)}, changes, uow.now)
    rated = quotes.rated(uow, fields)
    binding = _bound_to(uow, rated, wanted=wanted, named=given.get("policy"))
    if not changed and wanted == record["bind_requested"] and not binding["bind"]:
        return record
    record = uow.assignments.update(assignment_id, {**rated, **binding, "bind_requested": wanted})
    if record["bind"]:
        _request_certificates(uow, assignment_id)
        record = {**record, "certificate_refresh_pending": True}
    _publish(uow, "assignment.updated", record)
    return record


def delete(uow: UnitOfWork, assignment_id: str) -> int:
    """Void the assignment: its coverage of the job ends and its certificates stop being
    served. Returns when."""
    at = uow.now
    record = retrieve(uow, assignment_id)
    for token in (record["certificates"] or {}).values():
        uow.documents.drop(token)
    voided = {"deleted_at": at, "certificates": None, "certificate_refresh_pending": False}
    uow.assignments.set(assignment_id, voided)
    policy = uow.policies.get(record["policy"]) if record["bind"] else None
    if policy is not None and not policy["cancelled"] and not record["cancelled"]:
        # Its coverage ends now (a cancelled assignment's ended when it was cancelled).
        uow.publish("assignment.cancelled", events.ASSIGNMENT, {**record, **voided})
    deletion = events.deletion(assignment_id, "assignment", at)
    uow.publish("assignment.deleted", events.DELETED, deletion)
    return at


def extend(uow: UnitOfWork, job_id: str, end_date: int, *, send_email: bool) -> dict[str, Any]:
    """One atomic step: the assignment's row is locked from the read through the checks to the
    write, so concurrent extensions of a job take turns, each checked against the end date the
    one before left (the end date only grows)."""
    record = _open_of_job(uow, job_id)
    _check_extension(uow, record, end_date, send_email=send_email)
    if end_date == record["end_date"] and record["certificate_refresh_pending"]:
        # The same end date again while its certificates are being regenerated: that
        # regeneration serves this request too, and sends no email.
        return record
    if end_date != record["end_date"]:
        uow.assignments.set(record["id"], {"end_date": end_date})
        policies.cover_through(uow, uow.policies.get(record["policy"]), end_date)
        record = {**record, "end_date": end_date}
    _request_certificates(uow, record["id"], send_email=send_email, extended=True)
    # The answer shows the certificates as they are: stale until the regeneration is done.
    return {**record, "certificate_refresh_pending": True}


def _check_extension(uow: UnitOfWork, record: dict, end_date: int, *, send_email: bool) -> None:
    """The extend document's 400s, in its order: voided or cancelled, expired, shortening, more
    than a year (voided or cancelled: `_open_of_job`); then the no-op that the email forbids."""
    assignment_id = record["id"]
    if not record["bind"]:
        raise _refused(f"The assignment {assignment_id} is not bound.", "assignment_not_bound")
    policy = uow.policies.get(record["policy"])
    if policy is None or policy["cancelled"]:
        raise _refused(
            f"The policy {record['policy']} of the assignment has been cancelled.",
            "assignment_cancelled",
        )
    if record["end_date"] <= uow.now or policy["expiration_date"] <= uow.now:
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


def cancel(uow: UnitOfWork, job_id: str, reason: str | None) -> dict[str, Any]:
    """Cancel the job's assignment before it starts: its coverage of the job ends, its
    certificates stop being served, the contractor is told, `assignment.cancelled` published.
    The row is locked from the read to the write, as an extension's is."""
    record = _open_of_job(uow, job_id)
    if record["effective_date"] <= uow.now:
        raise _refused(
            f"The assignment {record['id']} started at {record['effective_date']}; only an "
            "assignment that has not started can be cancelled.",
            "assignment_already_started",
        )
    for token in (record["certificates"] or {}).values():
        uow.documents.drop(token)
    cancelled: dict[str, Any] = {
        "cancelled": True,
        "cancellation_date": uow.now,
        "cancellation_reason": reason,
        "certificates": {} if record["bind"] else None,
        "certificate_refresh_pending": False,
    }
    uow.assignments.set(record["id"], cancelled)
    record = {**record, **cancelled}
    uow.enqueue(Task(NOTIFY_CANCELLATION, record["id"]))
    uow.publish("assignment.cancelled", events.ASSIGNMENT, record)
    return record


def _open_of_job(uow: UnitOfWork, job_id: str) -> dict[str, Any]:
    """The job's most recently created assignment, its row locked until the unit of work ends
    (extend and cancel address an assignment by its job): a 404 for an unknown job or one
    without an assignment, `assignment_cancelled` for one voided or cancelled."""
    required(uow.jobs.get(job_id), "job", job_id, param="job_id")
    record = uow.assignments.latest_for_job(job_id, for_update=True)
    if record is None:
        raise NotFound("assignment for the job", job_id, param="job_id")
    if record["deleted_at"] is not None:
        raise _refused(f"The assignment {record['id']} has been voided.", "assignment_cancelled")
    if record["cancelled"]:
        raise _cancelled(record)
    return record


def _cancelled(record: dict, *, param: str = "job_id") -> InvalidRequest:
    return _refused(
        f"The assignment {record['id']} was cancelled at {record['cancellation_date']}.",
        "assignment_cancelled",
        param=param,
    )
