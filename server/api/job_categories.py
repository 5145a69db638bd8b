"""Job category operations: the read-only catalogue."""

from __future__ import annotations

from server import views
from server.api import page
from server.domain import job_categories
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def list_job_categories(
    database: Database,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = job_categories.list_(database, page(limit, starting_after, ending_before))
    return [views.job_category(r) for r in found]


def retrieve_job_category(database: Database, category_code_id: str):
    return views.job_category(job_categories.retrieve(database, category_code_id))
