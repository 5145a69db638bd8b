"""The email outbox: every email the server sends is a row, whether or not SMTP is set up."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.store.records import Records
from server.store.tables import emails

EMAILS = Records(emails, "email", "em", "email_id")


def record(session: Session, principal: Principal, fields: dict) -> dict:
    return EMAILS.create(session, principal, {"attempts": 0, **fields})


def get_any(session: Session, email_id: str) -> dict | None:
    row = session.execute(select(emails).where(emails.c.id == email_id)).first()
    return None if row is None else EMAILS.as_dict(row)


def save_any(session: Session, email_id: str, fields: dict) -> None:
    session.execute(update(emails).where(emails.c.id == email_id).values(**fields))


def newest(session: Session, limit: int) -> list[dict]:
    """Every account's emails, the most recent first: for the operator's `mail list`."""
    rows = session.execute(select(emails).order_by(emails.c.seq.desc()).limit(limit))
    return [{**EMAILS.as_dict(row), "account_id": row.account_id} for row in rows]
