"""Reviews of the certificates of insurance uploaded for review: the PDF's text is read outside
any transaction (its first pages, as the reference's review reads them), judged against the
requirement of the contractor's entities, and the outcome recorded and announced."""

from __future__ import annotations

import io
import logging

import pypdf

from server.domain import uploaded_certificates as certificates
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork
from server.worker.registry import Context, Record, task_kind

log = logging.getLogger(__name__)


def pdf_text(content: bytes) -> str | None:
    """The text of the PDF's first pages; None when it cannot be read."""
    try:
        pages = pypdf.PdfReader(io.BytesIO(content)).pages[: certificates.PAGES_READ]
        return "\n".join(page.extract_text() or "" for page in pages)
    except Exception as error:  # a broken PDF: pypdf raises many kinds
        log.info("an uploaded certificate could not be read: %s", error)
        return None


def _give_up(uow: UnitOfWork, task: ClaimedTask, error: str) -> None:
    """The review failed every attempt: its outcome is `error`."""
    certificates.finish(uow, task.subject, certificates.review(None, certificates.NONE, uow.now))


@task_kind(certificates.REVIEW, give_up=_give_up)
def review(context: Context, task: ClaimedTask) -> Record | None:
    with context.database.unit_of_work(task.principal) as uow:
        started = certificates.start(uow, task.subject)
        if started is None:
            return None
        record, requirement = started
        content = uow.documents.content(record["document"])
        at = uow.now
    outcome = certificates.review(pdf_text(content), requirement, at)

    def finish(uow: UnitOfWork) -> None:
        certificates.finish(uow, task.subject, outcome)

    return finish
