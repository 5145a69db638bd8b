"""Expiries: a policy whose expiration date has come, an application session that lapsed
unaccepted, each announced once by an event (`policy.expired`, `application.expired`) as soon as
the time of its sandbox (its test clock's, or the wall clock) reaches it."""

from __future__ import annotations

from server.domain import application_sessions, policies
from server.domain.endings import ENDINGS, POLICY_EXPIRY, SESSION_EXPIRY
from server.store.db import Database

ANNOUNCE = {
    POLICY_EXPIRY.kind: policies.expire,
    SESSION_EXPIRY.kind: application_sessions.expire,
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
