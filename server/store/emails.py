"""The email outbox: every email the server sends is a row, whether or not SMTP is set up."""

from __future__ import annotations

from sqlalchemy import Connection, select

from server.store.records import Records
from server.store.tables import emails

EMAILS = Records(emails, "em")


def newest(connection: Connection, limit: int) -> list[dict]:
    """Every account's emails, the most recent first: for the operator's `mail list`."""
    rows = connection.execute(select(emails).order_by(emails.c.seq.desc()).limit(limit))
    return [{**EMAILS.record(row), "account_id": row.account_id} for row in rows]
