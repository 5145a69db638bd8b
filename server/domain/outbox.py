"""The emails the server has sent or recorded, for the operator (`ten99-server mail list`)."""

from __future__ import annotations

from server.store import emails
from server.store.db import Database


def newest(db: Database, limit: int) -> list[dict]:
    with db.transaction() as session:
        return emails.newest(session, limit)
