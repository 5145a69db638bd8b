"""The job category catalogue, which every account reads and none writes: the server's
operator adds to it (`ten99-server categories add`), and each account learns of a new category
by its `category_code.added` event."""

from __future__ import annotations

from typing import Any

from server.core.errors import InvalidRequest
from server.core.pagination import PageRequest
from server.domain import events, rating, required
from server.store.unit_of_work import UnitOfWork

RISK_CLASSES = ("low", "medium", "high")


def retrieve(uow: UnitOfWork, category_id: str) -> dict[str, Any]:
    found = uow.job_categories.get(category_id)
    return required(found, "job category", category_id, param="category_code_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.job_categories.page(page)


def new_category(
    name: str, description: str, risk_class: str, coverage: list[str], *, approved: bool = True
) -> dict[str, Any]:
    """The fields of a category to add, checked: a name, a description, a risk class of the
    rate table, and the coverage it carries, general liability among it (every category
    carries it: an assignment that names none asks for it)."""
    if not name.strip() or not description.strip():
        raise InvalidRequest("A job category needs a name and a description.", param="name")
    if risk_class not in RISK_CLASSES:
        raise InvalidRequest(
            f"The risk class is one of {', '.join(RISK_CLASSES)}, not {risk_class!r}.",
            param="risk_class",
        )
    unknown = [c for c in coverage if c not in rating.COVERAGE_KEYS]
    if unknown or "general" not in coverage:
        raise InvalidRequest(
            f"The coverage is general and any of {', '.join(rating.COVERAGE_KEYS)}; "
            f"{', '.join(coverage) or 'none'} was given.",
            param="available_coverage",
        )
    return {
        "name": name.strip(),
        "description": description.strip(),
        "risk_class": risk_class,
        "available_coverage": list(dict.fromkeys(coverage)),
        "approved": approved,
    }


def announce(uow: UnitOfWork, category: dict[str, Any]) -> None:
    """Tell the caller's account of a category added to the catalogue."""
    uow.publish("category_code.added", events.JOB_CATEGORY, category)
