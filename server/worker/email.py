"""Email to contractors. Every email is recorded in the database; with SMTP configured
(TEN99_SMTP_URL: smtp://[user:password@]host[:port] with STARTTLS when the server offers it,
or smtps:// for TLS from the start) it is also queued, and sent by the worker after the
transaction that recorded it commits, never inside one."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from server.store.tasks import ClaimedTask
from server.store.unit_of_work import Task, UnitOfWork
from server.worker.registry import Context, Record, task_kind

SEND_EMAIL = "send_email"  # the task that hands a pending email to SMTP
TIMEOUT = 10  # seconds; a stuck SMTP server must not hold the worker


def record(
    uow: UnitOfWork, context: Context, *, recipient: str, subject: str, body: str, about: str
) -> None:
    """Record an email in this unit of work; with SMTP, queue it to be sent."""
    smtp = context.settings.smtp_url is not None
    email = uow.emails.add(
        {
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "about": about,
            "status": "pending" if smtp else "recorded",
            "attempts": 0,
        },
        uow.now,
    )
    if smtp:
        uow.enqueue(Task(SEND_EMAIL, email["id"]))


def letter(contractor: dict, paragraphs: list[str]) -> str:
    """An email's body to the contractor: the greeting, the lines given, the signature."""
    return "\n".join([f"Hello {contractor['first_name']},", "", *paragraphs, "", "1099Policy"])


def _give_up(uow: UnitOfWork, task: ClaimedTask, error: str) -> None:
    uow.emails.update(task.subject, {"status": "failed", "last_error": error[:2000]})


@task_kind(SEND_EMAIL, give_up=_give_up)
def send(context: Context, task: ClaimedTask) -> Record | None:
    """Send the email; an SMTP failure raises, and the task is retried."""
    with context.database.unit_of_work(task.principal, write=False) as uow:
        email = uow.emails.get(task.subject)
    if email is None or email["status"] == "sent":
        return None
    smtp_url = context.settings.smtp_url
    if smtp_url is None:  # SMTP was switched off since the email was queued: it stays readable
        return lambda uow: uow.emails.update(task.subject, {"status": "recorded"})
    _send(smtp_url, context.settings.mail_from, email)
    sent = {"status": "sent", "attempts": email["attempts"] + 1}
    return lambda uow: uow.emails.update(task.subject, {**sent, "sent_at": uow.now})


def _send(smtp_url: str, sender: str, email: dict) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email["recipient"]
    message["Subject"] = email["subject"]
    message.set_content(email["body"])
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    connect = smtplib.SMTP_SSL if secure else smtplib.SMTP
    assert parts.hostname is not None  # Settings refuses an SMTP URL without a host
    with connect(parts.hostname, port, timeout=TIMEOUT) as smtp:
        if not secure:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
