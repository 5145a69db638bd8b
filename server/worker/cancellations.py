"""The contractor told of an assignment's cancellation, by email, once it is committed."""

from __future__ import annotations

from server.domain.assignments import NOTIFY_CANCELLATION
from server.pdf.layout import format_date
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork
from server.worker import email
from server.worker.registry import Context, Record, task_kind


@task_kind(NOTIFY_CANCELLATION)
def notify(context: Context, task: ClaimedTask) -> Record | None:
    with context.database.unit_of_work(task.principal, write=False) as uow:
        assignment = uow.assignments.get_including_voided(task.subject)
        if assignment is None or not assignment["cancelled"]:
            return None
        contractor = uow.contractors.get(assignment["contractor"])
        job = uow.jobs.get(assignment["job"])
    if contractor is None:  # deleted since: nobody to tell
        return None
    job_name = job["name"] if job else assignment["job"]
    reason = assignment["cancellation_reason"]
    lines = [
        f"Your insurance coverage for {job_name} (assignment {assignment['id']}), which was to "
        f"start on {format_date(assignment['effective_date'])} (UTC), has been cancelled"
        + (f" ({reason})." if reason else "."),
        "Its certificates of insurance are no longer valid. Your policy and your coverage for "
        "other assignments are unchanged.",
    ]

    def record(uow: UnitOfWork) -> None:
        email.record(
            uow,
            context,
            recipient=contractor["email"],
            subject=f"Your coverage for {job_name} is cancelled",
            body=email.letter(contractor, lines),
            about=assignment["id"],
        )

    return record
