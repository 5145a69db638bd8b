"""Quotes: their dates, their rating and eligibility, and when they stop being editable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest
from server.core.pagination import PageRequest
from server.domain import events, rating, required
from server.domain.terms import DAY, check_term
from server.store.parties import Found
from server.store.unit_of_work import UnitOfWork

DEFAULT_TERM_DAYS = 30


def default_dates(fields: Mapping[str, Any], at: int) -> dict[str, Any]:
    """`effective_date` defaults to a day from now, `end_date` to 30 days after it."""
    effective = fields["effective_date"] if "effective_date" in fields else at + DAY
    end = fields["end_date"] if "end_date" in fields else effective + DEFAULT_TERM_DAYS * DAY
    return {**fields, "effective_date": effective, "end_date": end}


def work_state(job: dict[str, Any], contractor: dict[str, Any]) -> str | None:
    """Where the work is done: the job's state, or the contractor's for remote work."""
    address = job["address"] or contractor["address"] or {}
    return address.get("region")


def contractor_and_job(uow: UnitOfWork, fields: Mapping[str, Any]) -> tuple[dict, dict]:
    """The contractor and the job a body names; a 404 naming the field of one that is not
    there."""
    contractor = required(
        uow.contractors.get(fields["contractor"]),
        "contractor",
        fields["contractor"],
        param="contractor",
        code="invalid_contractor_id",
    )
    job = required(
        uow.jobs.get(fields["job"]), "job", fields["job"], param="job", code="invalid_job_id"
    )
    return contractor, job


def rated(uow: UnitOfWork, fields: dict[str, Any]) -> dict[str, Any]:
    """The quote's fields with its rating and eligibility, from the current contractor, job,
    job category and entity."""
    return rated_on(uow, fields, uow.parties.of(fields["contractor"], fields["job"]))


def rated_on(uow: UnitOfWork, fields: dict[str, Any], found: Found | None) -> dict[str, Any]:
    """`rated`, on the parties already read (None: not found)."""
    if found is None:  # which one is missing, in the error
        contractor_and_job(uow, fields)
        raise AssertionError("parties found one by one, not together")
    contractor, job, entity = found.contractor, found.job, found.entity  # entity: None once deleted
    category = uow.job_categories.get(job["category_code"])
    assert category is not None  # a job's category_code is a foreign key
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
            residence=(contractor["address"] or {}).get("region"),
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


def checked_dates(fields: dict[str, Any], given: Mapping[str, Any], at: int) -> dict[str, Any]:
    """A quote's (or an assignment's) period as the reference rules it: an `end_date` from the
    effective date to the end of its (UTC) day moves to the start of the next day; then
    `check_term` (it starts after now, and ends after it starts). Returns the fields with the
    dates kept."""
    effective, end = fields["effective_date"], fields["end_date"]
    if effective <= end and end // DAY == effective // DAY:
        fields = {**fields, "end_date": (effective // DAY + 1) * DAY}
    check_term(
        fields["effective_date"],
        fields["end_date"],
        at,
        effective_given="effective_date" in given,
        starts_now=False,
    )
    return fields


def refuse_matching_policy(
    uow: UnitOfWork, fields: Mapping[str, Any], contractor: dict, job: dict
) -> None:
    """A contractor with a policy on file that covers what the quote asks for (the same
    coverage types, job category and work state, in a term that meets the quote's) is covered
    already: its assignments use that policy, so a second quote is refused, as the reference's
    repeat-coverage guide says."""
    state = work_state(job, contractor)
    wanted = set(fields["coverage_type"])
    on_file = uow.policies.live_for_contractor_during(
        contractor["id"], fields["effective_date"], fields["end_date"]
    )
    for covered in on_file:
        if (
            set(covered["coverage_type"]) == wanted
            and covered["category_code"] == job["category_code"]
            and work_state(covered, contractor) == state
        ):
            raise InvalidRequest(
                f"Contractor already has a matching policy on file ({covered['id']}).",
                code="contractor_has_matching_policy",
                param="contractor",
            )


def create(uow: UnitOfWork, fields: schemas.QuoteCreate) -> dict[str, Any]:
    # The parties are read first, as their read brings the sandbox's time along; the dates are
    # still ruled on before a missing party is.
    found = uow.parties.of(fields["contractor"], fields["job"])
    dated = checked_dates(default_dates(fields, uow.now), fields, uow.now)
    rated_fields = rated_on(uow, dated, found)
    assert found is not None  # rated_on refuses a missing party
    if found.policy_on_file:
        refuse_matching_policy(uow, dated, found.contractor, found.job)
    quote = uow.quotes.add(rated_fields, uow.now)
    uow.publish("quote.created", events.QUOTE, quote)
    return quote


def retrieve(uow: UnitOfWork, quote_id: str) -> dict[str, Any]:
    return required(uow.quotes.get(quote_id), "quote", quote_id, param="quote_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.quotes.page(page)


def update(uow: UnitOfWork, quote_id: str, changes: schemas.QuoteUpdate) -> dict[str, Any]:
    before = retrieve(uow, quote_id)
    if uow.policies.quote_is_bound(quote_id):
        raise InvalidRequest(
            f"A policy has been issued for the quote {quote_id}. Create a new quote instead.",
            code="cant_update_create_new_quote",
        )
    fields = checked_dates({**before, **changes}, changes, uow.now)
    quote = uow.quotes.update(quote_id, rated(uow, fields))
    if quote != before:
        uow.publish("quote.updated", events.QUOTE, quote)
    return quote
