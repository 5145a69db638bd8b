"""The job category catalogue, which every account reads and none writes."""

from __future__ import annotations

from typing import Any

from server.domain.pagination import PageRequest
from server.store import job_categories as store
from server.store.db import Database


def retrieve(db: Database, category_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return store.get(session, category_id)


def list_(db: Database, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return store.list_(session, page)
