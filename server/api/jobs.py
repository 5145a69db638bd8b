"""Job operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import jobs
from server.store.unit_of_work import UnitOfWork


def list_jobs(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.JobList:
    return [
        show.job(r, live=uow.live)
        for r in jobs.list_(uow, page("job", limit, starting_after, ending_before))
    ]


def create_job(uow: UnitOfWork, body: schemas.JobCreate) -> schemas.Job:
    return show.job(jobs.create(uow, body), live=uow.live)


def retrieve_job(uow: UnitOfWork, job_id: str) -> schemas.Job:
    return show.job(jobs.retrieve(uow, job_id), live=uow.live)


def update_job(uow: UnitOfWork, job_id: str, body: schemas.JobUpdate) -> schemas.Job:
    return show.job(jobs.update(uow, job_id, body), live=uow.live)


def delete_job(uow: UnitOfWork, job_id: str) -> show.Deleted:
    return show.deletion(job_id, "job", jobs.delete(uow, job_id), live=uow.live)
