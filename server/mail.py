"""Sending recorded emails over SMTP (TEN99_SMTP_URL): smtp://[user:password@]host[:port] with
STARTTLS when the server offers it, or smtps:// for TLS from the start."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from server.domain.clock import now
from server.store import emails

TIMEOUT = 10  # seconds; a stuck SMTP server must not hold the worker


def check_smtp_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(
            f"TEN99_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465, "
            f"not {url!r}"
        )


def send(session: Session, email_id: str, smtp_url: str, sender: str) -> None:
    """Send the email and mark it sent; an SMTP failure raises, and the task is retried."""
    email = emails.get_any(session, email_id)
    if email is None or email["status"] == "sent":
        return
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email["recipient"]
    message["Subject"] = email["subject"]
    message.set_content(email["body"])
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    connect = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with connect(parts.hostname, port, timeout=TIMEOUT) as smtp:
        if not secure:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
    emails.save_any(
        session, email_id, {"status": "sent", "sent_at": now(), "attempts": email["attempts"] + 1}
    )


def keep_recorded(session: Session, email_id: str) -> None:
    emails.save_any(session, email_id, {"status": "recorded"})


def give_up(session: Session, email_id: str, error: str) -> None:
    emails.save_any(session, email_id, {"status": "failed", "last_error": error[:2000]})
