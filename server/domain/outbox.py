"""Email to contractors. Every email is recorded in the database; with SMTP configured it is
also queued for the worker to send, after the transaction that recorded it commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.documents import file_path
from server.store import emails, tasks
from server.store.db import Database

SEND_EMAIL = "send_email"  # the task that hands a pending email to SMTP


@dataclass(frozen=True)
class Outbound:
    """What background work knows of the deployment: the public base URL of its links, and
    whether email leaves over SMTP (otherwise it is only recorded)."""

    public_url: str | None
    smtp: bool

    def file_url(self, token: str) -> str:
        return f"{self.public_url or ''}{file_path(token)}"


def send(
    session: Session,
    principal: Principal,
    outbound: Outbound,
    *,
    recipient: str,
    subject: str,
    body: str,
    about: str,
    at: int,
) -> None:
    email = emails.record(
        session,
        principal,
        {
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "about": about,
            "status": "pending" if outbound.smtp else "recorded",
        },
    )
    if outbound.smtp:
        tasks.enqueue(session, principal, SEND_EMAIL, email["id"], {}, at)


def newest(db: Database, limit: int) -> list[dict]:
    """Every account's emails, the most recent first: for `ten99-server mail list`."""
    with db.transaction() as session:
        return emails.newest(session, limit)
