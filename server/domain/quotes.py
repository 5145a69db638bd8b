"""Quotes: their dates, their rating and eligibility, and when they stop being editable."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain import events, rating
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.domain.terms import DAY, check_term
from server.store import job_categories
from server.store.contractors import CONTRACTORS
from server.store.db import Database
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.policies import quote_is_bound
from server.store.quotes import QUOTES

DEFAULT_TERM_DAYS = 30


def default_dates(fields: dict[str, Any], at: int) -> dict[str, Any]:
    """`effective_date` defaults to a day from now, `end_date` to 30 days after it."""
    effective = fields["effective_date"] if "effective_date" in fields else at + DAY
    end = fields["end_date"] if "end_date" in fields else effective + DEFAULT_TERM_DAYS * DAY
    return {**fields, "effective_date": effective, "end_date": end}


def work_state(job: dict[str, Any], contractor: dict[str, Any]) -> str | None:
    """Where the work is done: the job's state, or the contractor's for remote work."""
    address = job["address"] or contractor["address"] or {}
    return address.get("region")


def rated(session: Session, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """The quote's fields with its rating and eligibility, from the current contractor, job,
    job category and entity."""
    contractor = CONTRACTORS.get(
        session, principal, fields["contractor"], param="contractor", code="invalid_contractor_id"
    )
    job = JOBS.get(session, principal, fields["job"], param="job", code="invalid_job_id")
    category = job_categories.get(session, job["category_code"])
    entity = ENTITIES.find(session, principal, job["entity"])  # None once deleted
    table = rating.rate_table()
    state = work_state(job, contractor)
    result = rating.rate(
        table,
        fields["coverage_type"],
        category["risk_class"],
        state,
        contractor["years_experience"],
    )
    eligible, message = rating.eligibility(
        table,
        rating.Circumstances(
            coverage_types=fields["coverage_type"],
            state=state,
            category_name=category["name"],
            available_coverage=category["available_coverage"],
            required_coverage=entity["required_coverage"] if entity else None,
            contractor_years=contractor["years_experience"],
            job_years=job["years_experience"],
        ),
    )
    return {
        **fields,
        "eligible": eligible,
        "eligibility_message": message,
        "net_rate": result.net_rate,
        "quote_json": result.parts,
    }


def per_coverage_rates(quote_json: dict[str, Any]) -> dict[str, int]:
    """The rate of each coverage quoted, as the top-level `gl_net_rate`, `wc_net_rate`, ..."""
    return {f"{key}_net_rate": part["net_rate"] for key, part in quote_json.items()}


def present(record: dict[str, Any]) -> dict[str, Any]:
    """The API's quote: the per-coverage rates repeated at the top."""
    return {**record, **per_coverage_rates(record["quote_json"])}


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    at = now()
    dated = default_dates(fields, at)
    check_term(
        dated["effective_date"],
        dated["end_date"],
        at,
        effective_given="effective_date" in fields,
        starts_now=False,
    )
    with db.transaction() as session:
        quote = present(QUOTES.create(session, principal, rated(session, principal, dated), at=at))
        events.record(session, principal, "quote.created", events.QUOTE, quote, at)
        return quote


def retrieve(db: Database, principal: Principal, quote_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return present(QUOTES.get(session, principal, quote_id))


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return [present(record) for record in QUOTES.list_(session, principal, page)]


def update(
    db: Database, principal: Principal, quote_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    with db.transaction() as session:
        current = QUOTES.fields(session, principal, quote_id)
        if quote_is_bound(session, quote_id):
            raise InvalidRequest(
                f"A policy has been issued for the quote {quote_id}. Create a new quote instead.",
                code="cant_update_create_new_quote",
            )
        fields = {**current, **changes}
        check_term(
            fields["effective_date"],
            fields["end_date"],
            now(),
            effective_given="effective_date" in changes,
            starts_now=False,
        )
        before = present(QUOTES.get(session, principal, quote_id))
        saved = QUOTES.save(session, principal, quote_id, rated(session, principal, fields))
        quote = present(saved)
        if quote != before:
            events.record(session, principal, "quote.updated", events.QUOTE, quote, now())
        return quote
