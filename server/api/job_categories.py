"""Job category operations: the read-only catalogue."""

from __future__ import annotations

from server import models
from server.api import database, page
from server.domain import job_categories
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return models.JobCategory.model_validate(record).model_dump(mode="json")


def list_job_categories(
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = job_categories.list_(database(), page(limit, starting_after, ending_before))
    return [_public(r) for r in found]


def retrieve_job_category(category_code_id: str):
    return _public(job_categories.retrieve(database(), category_code_id))
