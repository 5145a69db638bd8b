"""Expiries and the other moments the domain names (server/domain/endings.py): a policy whose
expiration date has come, an application session that lapsed unaccepted, a manual review's
outcome, an invoice's charge; each acted on and announced once by its events as soon as the
time of its sandbox (its test clock's, or the wall clock) reaches it."""

from __future__ import annotations

from server.domain import application_sessions, invoices, policies
from server.domain.endings import (
    ENDINGS,
    INVOICE_CHARGE,
    POLICY_EXPIRY,
    REVIEW_END,
    SESSION_EXPIRY,
)
from server.store.db import Database

ANNOUNCE = {
    POLICY_EXPIRY.kind: policies.expire,
    SESSION_EXPIRY.kind: application_sessions.expire,
    REVIEW_END.kind: application_sessions.end_review,
    INVOICE_CHARGE.kind: invoices.charge,
}


def announce_due(database: Database) -> int:
    """Announce every expiry that has come and is not yet announced, the earliest first;
    returns how many."""
    with database.server_work(write=False) as work:
        due = work.due_expiries(ENDINGS)
    for expiry in due:
        with database.unit_of_work(expiry.principal) as uow:
            ANNOUNCE[expiry.kind](uow, expiry.object_id)
    return len(due)
