"""Policies: binding a quote, status (active, cancelled, expired), and the policy document."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain import assignments, events, rating
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.domain.terms import MAX_TERM, check_term
from server.pdf.policy import Coverage, PolicyDocument, render_policy
from server.store import documents, job_categories
from server.store import policies as queries
from server.store.contractors import CONTRACTORS
from server.store.db import Database
from server.store.entities import ENTITIES
from server.store.jobs import JOBS
from server.store.policies import POLICIES
from server.store.quotes import QUOTES

ACTIVE, CANCELLED, EXPIRED = "active", "cancelled", "expired"


def status_of(record: dict[str, Any], at: int) -> str:
    if record["cancelled"]:
        return CANCELLED
    return EXPIRED if record["expiration_date"] <= at else ACTIVE


def present(record: dict[str, Any], at: int) -> dict[str, Any]:
    """The API's policy; `document` is the token of its PDF, which the caller turns into a URL."""
    status = status_of(record, at)
    return {
        "id": record["id"],
        "object": "policy",
        "created": record["created"],
        "quote": record["quote"],
        "effective_date": record["effective_date"],
        "expiration_date": record["expiration_date"],
        "status": status,
        "is_active": status == ACTIVE,
        "document": record["document"],
    }


def parties(session: Session, principal: Principal, quote: dict[str, Any]) -> dict[str, Any]:
    """The quote's contractor, job and entity; `invalid_quote_id` naming whichever is gone."""
    found = {
        "contractor": CONTRACTORS.find(session, principal, quote["contractor"]),
        "job": JOBS.find(session, principal, quote["job"]),
    }
    for field in ("contractor", "job"):
        if found[field] is None:
            raise _gone(quote["id"], field, quote[field])
    entity_id = found["job"]["entity"]
    found["entity"] = ENTITIES.find(session, principal, entity_id)
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
                "net_rate": quote["quote_json"][rating.COVERAGE_KEYS[coverage]]["net_rate"],
            }
            for coverage in quote["coverage_type"]
        ],
        "net_rate": quote["net_rate"],
    }


def _render(session: Session, principal: Principal, record: dict[str, Any], at: int) -> dict:
    """Render the policy document for the policy's current status and dates, replacing the old
    one (whose URL stops working); returns the updated record."""
    facts = record["document_facts"]
    status = status_of(record, at)
    content = render_policy(
        PolicyDocument(
            policy_number=record["id"],
            status=status,
            insured_name=facts["insured_name"],
            insured_address=facts["insured_address"],
            entity_name=facts["entity_name"],
            job_name=facts["job_name"],
            job_category=facts["job_category"],
            coverages=[Coverage(**coverage) for coverage in facts["coverages"]],
            net_rate=facts["net_rate"],
            effective_date=record["effective_date"],
            expiration_date=record["expiration_date"],
            issued=at,
        )
    )
    documents.drop(session, record["document"])
    token = documents.put(
        session, principal, f"policy-{record['id']}.pdf", "application/pdf", content
    )
    return POLICIES.save(
        session, principal, record["id"], {"document": token, "document_status": status}
    )


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as session:
        return bind(session, principal, fields, now())


def bindable_quote(session: Session, principal: Principal, quote_id: str) -> tuple[dict, dict]:
    """The quote and its parties, if a policy may be issued for it: not yet bound, its
    contractor, job and entity all there, and eligible; otherwise the 400 that says why (a 404
    for an unknown quote)."""
    quote = QUOTES.get(session, principal, quote_id, param="quote", code="invalid_quote_id")
    if queries.quote_is_bound(session, quote["id"]):
        raise _already_bound(quote["id"])
    found = parties(session, principal, quote)
    if not quote["eligible"]:
        raise InvalidRequest(
            f"The quote {quote['id']} is not eligible: {quote['eligibility_message']}",
            code="quote_not_eligible",
            param="quote",
        )
    return quote, found


def bind(session: Session, principal: Principal, fields: dict[str, Any], at: int) -> dict:
    """Issue the policy for `fields["quote"]`, in the caller's transaction."""
    quote, parties = bindable_quote(session, principal, fields["quote"])
    effective = fields.get("effective_date", max(quote["effective_date"], at))
    expiration = fields.get("expiration_date", quote["end_date"])
    check_term(
        effective,
        expiration,
        at,
        effective_given="effective_date" in fields,
        end_field="expiration_date",
    )
    category = job_categories.get(session, parties["job"]["category_code"])
    try:
        record = queries.insert(
            session,
            principal,
            {
                "quote": quote["id"],
                "effective_date": effective,
                "expiration_date": expiration,
                "cancelled": False,
                "document_facts": document_facts(quote, parties, category),
            },
        )
    except queries.QuoteAlreadyBound:
        # Another request bound the quote between our check and our insert.
        raise _already_bound(quote["id"]) from None
    policy = present(_render(session, principal, record, at), at)
    events.record(session, principal, "policy.created", events.POLICY, policy, at)
    if policy["status"] == ACTIVE:
        events.record(session, principal, "policy.active", events.POLICY, policy, at)
    return policy


def can_cover_through(policy: dict[str, Any], end: int) -> bool:
    """Whether the policy's term may reach `end`: at most a year after it takes effect."""
    return end <= policy["effective_date"] + MAX_TERM


def cover_through(session: Session, principal: Principal, policy: dict, end: int, at: int) -> None:
    """Move the policy's expiration out to `end` if it ends sooner, re-issuing its document:
    an assignment bound to the policy is covered for its whole period."""
    if policy["expiration_date"] < end:
        record = POLICIES.save(session, principal, policy["id"], {"expiration_date": end})
        lengthened = present(_render(session, principal, record, at), at)
        events.record(session, principal, "policy.updated", events.POLICY, lengthened, at)


def _already_bound(quote_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"A policy has already been created for the quote {quote_id}.",
        code="policy_already_exists",
        param="quote",
    )


def retrieve(db: Database, principal: Principal, policy_id: str) -> dict[str, Any]:
    at = now()
    with db.transaction() as session:
        return present(POLICIES.get(session, principal, policy_id), at)


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    at = now()
    with db.transaction() as session:
        return [present(record, at) for record in POLICIES.list_(session, principal, page)]


def reissue_expired_documents(db: Database) -> int:
    """Background work: re-render the documents of policies that expired since theirs was
    rendered, so that a document says EXPIRED (requests never render one). Returns how many."""
    at = now()
    with db.transaction() as session:
        expired = queries.documents_outdated_by_expiry(session, at)
        for principal, record in expired:
            _render(session, principal, record, at)
    return len(expired)


def update(
    db: Database, principal: Principal, policy_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    at = now()
    with db.transaction() as session:
        record = POLICIES.get(session, principal, policy_id)
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
            quote = QUOTES.get(session, principal, record["quote"])
            try:
                parties(session, principal, quote)
            except InvalidRequest as gone:
                raise _not_updatable(policy_id, f"cannot be reactivated: {gone.message}") from None
        if all(fields[name] == record[name] for name in fields):
            return present(record, at)
        saved = POLICIES.save(session, principal, policy_id, fields)
        policy = present(_render(session, principal, saved, at), at)
        _record_update(session, principal, record, policy, at)
        return policy


def _record_update(
    session: Session, principal: Principal, before: dict, policy: dict, at: int
) -> None:
    """The events of an update: `policy.updated` for new dates, and the cancellation or
    reactivation, with what it means for the assignments bound to the policy."""
    if any(policy[name] != before[name] for name in ("effective_date", "expiration_date")):
        events.record(session, principal, "policy.updated", events.POLICY, policy, at)
    if policy["status"] == CANCELLED and not before["cancelled"]:
        _record_cancelled(session, principal, policy, at)
    elif before["cancelled"] and policy["status"] == ACTIVE:
        events.record(session, principal, "policy.reactivated", events.POLICY, policy, at)
        assignments.record_coverage_change(session, principal, policy["id"], active=True, at=at)


def _record_cancelled(session: Session, principal: Principal, policy: dict, at: int) -> None:
    events.record(session, principal, "policy.cancelled", events.POLICY, policy, at)
    assignments.record_coverage_change(session, principal, policy["id"], active=False, at=at)


def _not_updatable(policy_id: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"The policy {policy_id} {why}.", code="policy_not_updatable")


def delete(db: Database, principal: Principal, policy_id: str) -> int:
    """Cancel the policy's coverage and delete it; returns when."""
    at = now()
    with db.transaction() as session:
        record = POLICIES.get(session, principal, policy_id)
        documents.drop(session, record["document"])
        queries.mark_deleted(session, policy_id, at)
        if not record["cancelled"]:
            cancelled = present({**record, "cancelled": True, "document": None}, at)
            _record_cancelled(session, principal, cancelled, at)
    return at


def _cancel(session: Session, principal: Principal, records: list[dict], at: int) -> None:
    for record in records:
        record = POLICIES.save(session, principal, record["id"], {"cancelled": True})
        cancelled = present(_render(session, principal, record, at), at)
        _record_cancelled(session, principal, cancelled, at)


def cancel_contractor_policies(
    session: Session, principal: Principal, contractor_id: str, at: int
) -> None:
    in_force = queries.in_force_for_contractor(session, principal, contractor_id, at)
    _cancel(session, principal, in_force, at)


def cancel_entity_policies(session: Session, principal: Principal, entity_id: str, at: int) -> None:
    _cancel(session, principal, queries.in_force_for_entity(session, principal, entity_id, at), at)
