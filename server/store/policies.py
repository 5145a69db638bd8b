"""Policy rows. A deleted policy keeps its row, with `deleted_at` set, so that its quote stays
bound; Records hides it from every read."""

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.accounts import Environment, Principal
from server.store.listing import owned
from server.store.records import Records
from server.store.tables import jobs, policies, quotes

POLICIES = Records(policies, "policy", "pl", "policy_id")


class QuoteAlreadyBound(Exception):
    """The quote's unique constraint refused a second policy: another request bound it first."""


def insert(session: Session, principal: Principal, fields: dict) -> dict:
    try:
        return POLICIES.create(session, principal, fields)
    except IntegrityError as error:
        raise QuoteAlreadyBound(fields["quote"]) from error


def quote_is_bound(session: Session, quote_id: str) -> bool:
    """Whether a policy was ever issued for the quote, deleted or not."""
    query = select(policies.c.id).where(policies.c.quote == quote_id)
    return session.execute(query).first() is not None


def _in_force(principal: Principal, since: int) -> Select:
    return (
        owned(policies, principal)
        .join(quotes, quotes.c.id == policies.c.quote)
        .where(policies.c.cancelled.is_(False), policies.c.expiration_date > since)
    )


def in_force_for_contractor(
    session: Session, principal: Principal, contractor_id: str, since: int
) -> list[dict]:
    query = _in_force(principal, since).where(quotes.c.contractor == contractor_id)
    return [POLICIES.as_dict(row) for row in session.execute(query)]


def in_force_for_entity(
    session: Session, principal: Principal, entity_id: str, since: int
) -> list[dict]:
    query = (
        _in_force(principal, since)
        .join(jobs, jobs.c.id == quotes.c.job)
        .where(jobs.c.entity == entity_id)
    )
    return [POLICIES.as_dict(row) for row in session.execute(query)]


def job_has_policy(session: Session, principal: Principal, job_id: str) -> bool:
    query = (
        owned(policies, principal)
        .with_only_columns(policies.c.id)
        .join(quotes, quotes.c.id == policies.c.quote)
        .where(quotes.c.job == job_id)
    )
    return session.execute(query).first() is not None


def documents_outdated_by_expiry(session: Session, at: int) -> list[tuple[Principal, dict]]:
    """Every account's live policies that expired after their document was last rendered."""
    query = select(policies).where(
        policies.c.deleted_at.is_(None),
        policies.c.expiration_date <= at,
        policies.c.document_status == "active",
    )
    return [
        (Principal(row.account_id, Environment(row.environment)), POLICIES.as_dict(row))
        for row in session.execute(query)
    ]


def mark_deleted(session: Session, policy_id: str, at: int) -> None:
    """Cancel and hide the policy; its row stays so that its quote stays bound."""
    session.execute(
        update(policies)
        .where(policies.c.id == policy_id)
        .values(cancelled=True, deleted_at=at, document=None, document_status=None)
    )
