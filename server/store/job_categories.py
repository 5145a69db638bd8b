"""The job category catalogue: one for every account and environment.

Migrations and `ten99-server categories add` write it, and a category once written never
changes, so a process keeps each category it read: rating a quote reads its job's category,
and need not ask the database again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from server.core.ids import new_id
from server.core.pagination import PageRequest
from server.store.listing import page_of
from server.store.prepared import Prepared
from server.store.tables import job_categories

COLUMNS = ("id", "created", "name", "description", "risk_class", "available_coverage", "approved")
_BY_ID = Prepared(
    select(job_categories).where(job_categories.c.id == bindparam("id")), job_categories.columns
)
_READ: dict[str, dict[str, Any]] = {}


class JobCategories:
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, category_id: str) -> dict[str, Any] | None:
        found = _READ.get(category_id)
        if found is None:
            rows = _BY_ID.rows(self.connection, {"id": category_id})
            if not rows:
                return None
            found = _READ[category_id] = {name: rows[0][name] for name in COLUMNS}
        # The caller's to change: its one list copied too (deepcopy took ten times as long).
        return {**found, "available_coverage": list(found["available_coverage"])}

    def add(self, fields: dict[str, Any], at: int) -> dict[str, Any]:
        """A new category of the catalogue, created `at`."""
        category = {**fields, "id": new_id("jc", 10), "created": at}
        self.connection.execute(insert(job_categories).values(category))
        return {name: category[name] for name in COLUMNS}

    def page(self, page: PageRequest) -> list[dict[str, Any]]:
        rows = page_of(self.connection, job_categories, select(job_categories), page)
        return [{name: getattr(row, name) for name in COLUMNS} for row in rows]
