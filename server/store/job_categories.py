"""The job category catalogue: one for every account and environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from server.domain.errors import NotFound
from server.domain.pagination import PageRequest
from server.store.listing import page_of
from server.store.tables import job_categories

KIND = "job_category"
COLUMNS = ("id", "created", "name", "description", "risk_class", "available_coverage", "approved")


def _as_dict(row: Row) -> dict[str, Any]:
    return {"object": KIND, **{name: getattr(row, name) for name in COLUMNS}}


def get(
    session: Session, category_id: str, *, param: str = "category_code_id", code: str | None = None
) -> dict[str, Any]:
    query = select(job_categories).where(job_categories.c.id == category_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound("job category", category_id, param=param, code=code)
    return _as_dict(row)


def list_(session: Session, page: PageRequest) -> list[dict[str, Any]]:
    rows = page_of(session, job_categories, select(job_categories), page, kind="job category")
    return [_as_dict(row) for row in rows]
