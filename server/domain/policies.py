"""Policies: binding a quote, status (active, cancelled, expired), and when the policy document
is issued again. Documents are rendered by the background worker (server/worker/), never in a
request: a policy shows `pdf_url` null until its first one exists, and its previous one until a
new one replaces it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from server.contract import schemas
from server.core.errors import InvalidRequest
from server.core.pagination import PageRequest
from server.domain import coverage, events, rating, required
from server.domain.terms import MAX_TERM, check_term
from server.store.policies import QuoteAlreadyBound
from server.store.unit_of_work import Task, UnitOfWork

Status = Literal["active", "cancelled", "expired"]
ACTIVE: Status = "active"
CANCELLED: Status = "cancelled"
EXPIRED: Status = "expired"
ISSUE_DOCUMENT = "issue_policy_document"  # the task that renders a policy's document
# Why a policy was cancelled, as its document says.
CANCELLED_BY_UPDATE = "cancelled through the API (is_active set to false)"
CONTRACTOR_DELETED = "the insured contractor was deleted"
ENTITY_DELETED = "the contracting entity was deleted"


def cancellation(at: int | None, reason: str | None) -> dict[str, Any]:
    """The fields that record a cancellation at `at` for `reason`; with `at` None, that the
    policy is not cancelled."""
    cancelled = at is not None
    return {
        "cancelled": cancelled,
        "cancelled_at": at,
        "cancellation_reason": reason if cancelled else None,
    }


def status_of(record: dict[str, Any], at: int) -> Status:
    if record["cancelled"]:
        return CANCELLED
    return EXPIRED if record["expiration_date"] <= at else ACTIVE


def parties(uow: UnitOfWork, quote: dict[str, Any]) -> dict[str, Any]:
    """The quote's contractor, job and entity; `invalid_quote_id` naming whichever is gone."""
    found = {
        "contractor": uow.contractors.get(quote["contractor"]),
        "job": uow.jobs.get(quote["job"]),
    }
    for field in ("contractor", "job"):
        if found[field] is None:
            raise _gone(quote["id"], field, quote[field])
    entity_id = found["job"]["entity"]
    found["entity"] = uow.entities.get(entity_id)
    if found["entity"] is None:
        raise _gone(quote["id"], "entity", entity_id)
    return found


def _gone(quote_id: str, field: str, object_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"The {field} {object_id} of the quote {quote_id} has been deleted.",
        code="invalid_quote_id",
        param="quote",
    )


def document_facts(quote: dict[str, Any], parties: dict[str, Any], category: dict) -> dict:
    """What the policy document states about the insured, the entity, the job and the coverage,
    kept with the policy so that the document outlives a deleted contractor or entity."""
    contractor, entity, job = parties["contractor"], parties["entity"], parties["job"]
    limits = entity["coverage_limit"] or rating.rate_table().standard_limits
    net_rates = rating.net_rates(quote)
    address = contractor["address"]
    return {
        "insured_name": " ".join(
            part
            for part in (
                contractor["first_name"],
                contractor["middle_name"],
                contractor["last_name"],
            )
            if part
        ),
        "insured_address": [
            line
            for line in (
                address.get("line1"),
                address.get("line2"),
                f"{address.get('locality')}, {address.get('region')} {address.get('postalcode')}",
            )
            if line
        ],
        "entity_name": entity["name"],
        "job_name": job["name"],
        "job_category": category["name"],
        "coverages": [
            {
                "name": rating.COVERAGE_NAMES[coverage],
                "occurrence_limit": limits["occurrence_limit"],
                "aggregate_limit": limits["aggregate_limit"],
                "net_rate": net_rate,
            }
            for coverage, net_rate in net_rates.items()
        ],
        "net_rate": quote["net_rate"],
    }


def issue_document(uow: UnitOfWork, policy_id: str) -> None:
    """Queue the policy's document to be rendered again, for its status and dates as they are
    when the worker renders it."""
    uow.enqueue(Task(ISSUE_DOCUMENT, policy_id))


def expire(uow: UnitOfWork, policy_id: str) -> None:
    """Announce that the policy's expiration date has come: `policy.expired`, and a document
    that says so."""
    policy = uow.policies.get(policy_id)
    if policy is None or status_of(policy, uow.now) != EXPIRED:
        return
    if not uow.policies.mark(policy_id, "expiry_announced"):
        return  # announced by another worker
    uow.publish("policy.expired", events.POLICY, policy)
    issue_document(uow, policy_id)


def _policy(uow: UnitOfWork, policy_id: str) -> dict[str, Any]:
    return required(uow.policies.get(policy_id), "policy", policy_id, param="policy_id")


def create(uow: UnitOfWork, fields: schemas.PolicyCreate) -> dict[str, Any]:
    return bind(uow, fields)


NOT_ELIGIBLE = "quote_not_eligible"


def bindable_quote(uow: UnitOfWork, quote_id: str) -> tuple[dict, dict]:
    """The quote and its parties, if a policy may be issued for it: not yet bound, its
    contractor, job and entity all there, and eligible; otherwise the 400 that says why (a 404
    for an unknown quote)."""
    quote = required(
        uow.quotes.get(quote_id), "quote", quote_id, param="quote", code="invalid_quote_id"
    )
    if uow.policies.quote_is_bound(quote["id"]):
        raise _already_bound(quote["id"])
    found = parties(uow, quote)
    if not quote["eligible"]:
        raise InvalidRequest(
            f"The quote {quote['id']} is not eligible: {quote['eligibility_message']}",
            code=NOT_ELIGIBLE,
            param="quote",
        )
    return quote, found


def bind(uow: UnitOfWork, fields: Mapping[str, Any]) -> dict:
    """Issue the policy for `fields["quote"]`."""
    at = uow.now
    quote, parties = bindable_quote(uow, fields["quote"])
    effective = fields.get("effective_date", max(quote["effective_date"], at))
    expiration = fields.get("expiration_date", quote["end_date"])
    check_term(
        effective,
        expiration,
        at,
        effective_given="effective_date" in fields,
        end_field="expiration_date",
    )
    category = uow.job_categories.get(parties["job"]["category_code"])
    assert category is not None  # a job's category_code is a foreign key
    try:
        policy = uow.policies.add(
            {
                "quote": quote["id"],
                "effective_date": effective,
                "expiration_date": expiration,
                **cancellation(None, None),
                "document_facts": document_facts(quote, parties, category),
                "expiry_announced": False,
            },
            at,
        )
    except QuoteAlreadyBound:
        # Another request bound the quote between our check and our insert.
        raise _already_bound(quote["id"]) from None
    issue_document(uow, policy["id"])
    uow.publish("policy.created", events.POLICY, policy)
    if status_of(policy, at) == ACTIVE:
        uow.publish("policy.active", events.POLICY, policy)
        if "media" in quote["coverage_type"]:
            # The reference's event of a policy with media cover, beside policy.active.
            uow.publish("policy.active.media", events.POLICY, policy)
    return policy


def can_cover_through(policy: dict[str, Any], end: int) -> bool:
    """Whether the policy's term may reach `end`: at most a year after it takes effect."""
    return end <= policy["effective_date"] + MAX_TERM


def cover_through(uow: UnitOfWork, policy: dict, end: int) -> None:
    """Move the policy's expiration out to `end` if it ends sooner, re-issuing its document:
    an assignment bound to the policy is covered for its whole period."""
    if policy["expiration_date"] < end:
        lengthened = uow.policies.update(policy["id"], {"expiration_date": end})
        issue_document(uow, policy["id"])
        uow.publish("policy.updated", events.POLICY, lengthened)


def _already_bound(quote_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"A policy has already been created for the quote {quote_id}.",
        code="policy_already_exists",
        param="quote",
    )


def retrieve(uow: UnitOfWork, policy_id: str) -> dict[str, Any]:
    return _policy(uow, policy_id)


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.policies.page(page)


def list_for_contractor(
    uow: UnitOfWork, contractor_id: str, page: PageRequest
) -> list[dict[str, Any]]:
    required(uow.contractors.get(contractor_id), "contractor", contractor_id, param="contractor_id")
    return uow.policies.page_for_contractor(contractor_id, page)


def update(uow: UnitOfWork, policy_id: str, changes: schemas.PolicyUpdate) -> dict[str, Any]:
    at = uow.now
    record = _policy(uow, policy_id)
    status = status_of(record, at)
    if record["expiration_date"] <= at:
        raise _not_updatable(policy_id, "has expired and can no longer be changed")
    fields = {
        "effective_date": changes.get("effective_date", record["effective_date"]),
        "expiration_date": changes.get("expiration_date", record["expiration_date"]),
        "cancelled": not changes.get("is_active", status == ACTIVE),
    }
    if "effective_date" in changes or "expiration_date" in changes:
        check_term(
            fields["effective_date"],
            fields["expiration_date"],
            at,
            effective_given="effective_date" in changes,
            end_field="expiration_date",
        )
    if status == CANCELLED and not fields["cancelled"]:
        quote = uow.quotes.get(record["quote"])
        try:
            parties(uow, quote)
        except InvalidRequest as gone:
            raise _not_updatable(policy_id, f"cannot be reactivated: {gone.message}") from None
    if all(fields[name] == record[name] for name in fields):
        return record
    if fields["cancelled"] != record["cancelled"]:
        fields.update(cancellation(at if fields["cancelled"] else None, CANCELLED_BY_UPDATE))
    policy = uow.policies.update(policy_id, fields)
    issue_document(uow, policy_id)
    _publish_update(uow, record, policy)
    return policy


def _publish_update(uow: UnitOfWork, before: dict, policy: dict) -> None:
    """The events of an update: `policy.updated` for new dates, and the cancellation or
    reactivation, with what it means for the assignments bound to the policy."""
    if any(policy[name] != before[name] for name in ("effective_date", "expiration_date")):
        uow.publish("policy.updated", events.POLICY, policy)
    if policy["cancelled"] and not before["cancelled"]:
        _publish_cancelled(uow, policy)
    elif before["cancelled"] and status_of(policy, uow.now) == ACTIVE:
        uow.publish("policy.reactivated", events.POLICY, policy)
        coverage.publish_coverage_change(uow, policy["id"], active=True)


def _publish_cancelled(uow: UnitOfWork, policy: dict) -> None:
    uow.publish("policy.cancelled", events.POLICY, policy)
    coverage.publish_coverage_change(uow, policy["id"], active=False)


def _not_updatable(policy_id: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"The policy {policy_id} {why}.", code="policy_not_updatable")


def delete(uow: UnitOfWork, policy_id: str) -> int:
    """Cancel the policy's coverage and delete it; returns when."""
    record = _policy(uow, policy_id)
    uow.documents.drop(record["document"])
    uow.policies.mark_deleted(policy_id, uow.now)
    if not record["cancelled"]:
        _publish_cancelled(uow, {**record, "cancelled": True, "document": None})
    return uow.now


def _cancel(uow: UnitOfWork, records: list[dict], reason: str) -> None:
    for record in records:
        cancelled = uow.policies.update(record["id"], cancellation(uow.now, reason))
        issue_document(uow, record["id"])
        _publish_cancelled(uow, cancelled)


def cancel_contractor_policies(uow: UnitOfWork, contractor_id: str) -> None:
    _cancel(uow, uow.policies.in_force_for_contractor(contractor_id, uow.now), CONTRACTOR_DELETED)


def cancel_entity_policies(uow: UnitOfWork, entity_id: str) -> None:
    _cancel(uow, uow.policies.in_force_for_entity(entity_id, uow.now), ENTITY_DELETED)
