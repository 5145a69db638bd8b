"""The job category catalogue, which every account reads and none writes."""

from __future__ import annotations

from typing import Any

from server.core.pagination import PageRequest
from server.domain import required
from server.store.unit_of_work import UnitOfWork


def retrieve(uow: UnitOfWork, category_id: str) -> dict[str, Any]:
    found = uow.job_categories.get(category_id)
    return required(found, "job category", category_id, param="category_code_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.job_categories.page(page)
