"""Certificates of insurance: the background half of binding and extending an assignment.

One PDF per coverage type, for the assignment's current period, replaces the old ones (whose
URLs stop working); after an extension the regeneration is reported (`assignment.extended`,
with the fresh URLs) and the contractor emailed if asked. A voided or cancelled assignment
gets none.
"""

from __future__ import annotations

from server.core.principals import Environment
from server.domain import events, rating
from server.domain.assignments import REFRESH_CERTIFICATES
from server.pdf.certificate import CertificateDocument, render_certificate
from server.pdf.layout import format_date
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork
from server.worker import email
from server.worker.registry import Context, Record, Stale, task_kind

# What the certificates show of an assignment; a change to any of them makes them stale.
_SHOWN = (
    "policy",
    "coverage_type",
    "effective_date",
    "end_date",
    "bind",
    "cancelled",
    "deleted_at",
)


@task_kind(REFRESH_CERTIFICATES)
def refresh(context: Context, task: ClaimedTask) -> Record | None:
    with context.database.unit_of_work(task.principal, write=False) as uow:
        assignment = uow.assignments.get_including_voided(task.subject)
        if (
            assignment is None
            or assignment["deleted_at"] is not None
            or assignment["cancelled"]
            or not assignment["bind"]
        ):
            return None
        policy = uow.policies.get(assignment["policy"])
        job = uow.jobs.get(assignment["job"])
        entity = uow.entities.get(job["entity"]) if job else None
        contractor = uow.contractors.get(assignment["contractor"])
        issued = uow.now
    specimen = task.principal.environment == Environment.SANDBOX
    rendered = _render(assignment, policy, job, entity, issued, specimen)

    def record(uow: UnitOfWork) -> None:
        current = uow.assignments.get_including_voided(task.subject)
        if current is None or any(current[name] != assignment[name] for name in _SHOWN):
            raise Stale(f"assignment {task.subject} changed while its certificates rendered")
        tokens = {
            key: uow.documents.put(filename, "application/pdf", content, uow.now)
            for key, (filename, content) in rendered.items()
        }
        for token in (current["certificates"] or {}).values():
            uow.documents.drop(token)
        fresh = {"certificates": tokens, "certificate_refresh_pending": False}
        uow.assignments.set(task.subject, fresh)
        if task.payload.get("extended"):
            uow.publish("assignment.extended", events.ASSIGNMENT, {**current, **fresh})
        if task.payload.get("send_email") and contractor is not None:
            _email_extension(uow, context, {**current, **fresh}, job, contractor)

    return record


def _render(
    assignment: dict,
    policy: dict | None,
    job: dict | None,
    entity: dict | None,
    issued: int,
    specimen: bool,
) -> dict[str, tuple[str, bytes]]:
    """Coverage key -> (file name, PDF) of each certificate."""
    facts = policy["document_facts"] if policy else None
    limits = (entity or {}).get("coverage_limit") or rating.rate_table().standard_limits
    rendered = {}
    for coverage in assignment["coverage_type"]:
        key = rating.COVERAGE_KEYS[coverage]
        content = render_certificate(
            CertificateDocument(
                certificate_number=f"{assignment['id']}-{key}",
                coverage_name=rating.COVERAGE_NAMES[coverage],
                occurrence_limit=limits["occurrence_limit"],
                aggregate_limit=limits["aggregate_limit"],
                policy_number=assignment["policy"],
                insured_name=facts["insured_name"] if facts else assignment["contractor"],
                insured_address=facts["insured_address"] if facts else [],
                holder_name=entity["name"] if entity else (job or {}).get("entity", ""),
                job_name=job["name"] if job else assignment["job"],
                effective_date=assignment["effective_date"],
                end_date=assignment["end_date"],
                issued=issued,
                specimen=specimen,
            )
        )
        rendered[key] = (f"{key}_coi_{assignment['id']}.pdf", content)
    return rendered


def _email_extension(
    uow: UnitOfWork, context: Context, assignment: dict, job: dict | None, contractor: dict
) -> None:
    job_name = job["name"] if job else assignment["job"]
    certificates = assignment["certificates"]
    lines = [
        f"Your insurance coverage for {job_name} (assignment {assignment['id']}) "
        "has been extended.",
        f"It now runs from {format_date(assignment['effective_date'])} "
        f"to {format_date(assignment['end_date'])} (UTC).",
        "",
        "Your certificates of insurance:",
        *(
            f"  {rating.COVERAGE_NAMES[coverage]}: "
            f"{context.file_url(certificates[rating.COVERAGE_KEYS[coverage]])}"
            for coverage in assignment["coverage_type"]
        ),
    ]
    email.record(
        uow,
        context,
        recipient=contractor["email"],
        subject=f"Your coverage for {job_name} is extended to "
        f"{format_date(assignment['end_date'])}",
        body=email.letter(contractor, lines),
        about=assignment["id"],
    )
