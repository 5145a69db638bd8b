"""The email outbox: every email the server sends is a row, whether or not SMTP is set up."""

from __future__ import annotations

from sqlalchemy import Connection, select

from server.store.records import Records
from server.store.tables import emails

EMAILS = Records(emails, "em")


def get_any(connection: Connection, email_id: str) -> dict | None:
    row = connection.execute(select(emails).where(emails.c.id == email_id)).first()
    return None if row is None else EMAILS.record(row)


def set_fields(connection: Connection, email_id: str, fields: dict) -> None:
    connection.execute(EMAILS.update, {"object_id": email_id, **fields})


def newest(connection: Connection, limit: int) -> list[dict]:
    """Every account's emails, the most recent first: for the operator's `mail list`."""
    rows = connection.execute(select(emails).order_by(emails.c.seq.desc()).limit(limit))
    return [{**EMAILS.record(row), "account_id": row.account_id} for row in rows]
