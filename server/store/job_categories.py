"""The job category catalogue: one for every account and environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from server.core.pagination import PageRequest
from server.store.listing import page_of
from server.store.prepared import Prepared
from server.store.tables import job_categories

COLUMNS = ("id", "created", "name", "description", "risk_class", "available_coverage", "approved")
_BY_ID = Prepared(
    select(job_categories).where(job_categories.c.id == bindparam("id")), job_categories.columns
)


class JobCategories:
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, category_id: str) -> dict[str, Any] | None:
        rows = _BY_ID.rows(self.connection, {"id": category_id})
        return {name: rows[0][name] for name in COLUMNS} if rows else None

    def page(self, page: PageRequest) -> list[dict[str, Any]]:
        rows = page_of(self.connection, job_categories, select(job_categories), page)
        return [{name: getattr(row, name) for name in COLUMNS} for row in rows]
