"""Job category operations: the read-only catalogue."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import job_categories
from server.store.unit_of_work import UnitOfWork


def list_job_categories(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.JobCategoryList:
    found = job_categories.list_(uow, page("job category", limit, starting_after, ending_before))
    return [show.job_category(r, live=uow.live) for r in found]


def retrieve_job_category(uow: UnitOfWork, category_code_id: str) -> schemas.JobCategory:
    return show.job_category(job_categories.retrieve(uow, category_code_id), live=uow.live)
