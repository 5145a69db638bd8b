"""Application session rows. The id is the hosted page's capability, so it is long."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.accounts import Environment, Principal
from server.store.records import Records
from server.store.tables import application_sessions

APPLICATION_SESSIONS = Records(
    application_sessions, "application_session", "ias", "session_id", id_length=32
)


def find_by_capability(session: Session, session_id: str) -> tuple[Principal, dict] | None:
    """The session and its owner, for the hosted page, which has no API key; the row is
    locked for the transaction so that one acceptance completes it."""
    row = session.execute(
        select(application_sessions)
        .where(application_sessions.c.id == session_id)
        .with_for_update()
    ).first()
    if row is None:
        return None
    owner = Principal(row.account_id, Environment(row.environment))
    return owner, APPLICATION_SESSIONS.as_dict(row)
