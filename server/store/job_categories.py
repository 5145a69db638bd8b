"""The job category catalogue: one for every account and environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from server.core.pagination import PageRequest
from server.store.listing import page_of
from server.store.tables import job_categories

COLUMNS = ("id", "created", "name", "description", "risk_class", "available_coverage", "approved")
_BY_ID = select(job_categories).where(job_categories.c.id == bindparam("id"))


class JobCategories:
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, category_id: str) -> dict[str, Any] | None:
        row = self.connection.execute(_BY_ID, {"id": category_id}).first()
        return None if row is None else {name: getattr(row, name) for name in COLUMNS}

    def page(self, page: PageRequest) -> list[dict[str, Any]]:
        rows = page_of(self.connection, job_categories, select(job_categories), page)
        return [{name: getattr(row, name) for name in COLUMNS} for row in rows]
