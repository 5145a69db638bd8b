"""Triggers: for each event type, what a sandbox user would do to make that event happen, done
through the domain's own rules, as `stripe trigger` does. Each returns the id of the object the
event is about. An expiry needs time to pass: its objects are made as they would have been made
days before, so that their end has come now."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from server.core.settings import Settings
from server.domain import (
    application_sessions,
    assignments,
    contractors,
    invoices,
    job_categories,
    policies,
    quotes,
)
from server.domain.terms import DAY
from server.sandbox import MEETS_THE_EXAMPLE, Sandbox, example
from server.store.db import Database
from server.worker import expiries, run_due, webhooks

Trigger = Callable[[Sandbox], str]


def _contractor_updated(sandbox: Sandbox) -> str:
    made = sandbox.contractor()
    sandbox.run(contractors.update, made["id"], example("ContractorUpdate"))
    return made["id"]


def _contractor_deleted(sandbox: Sandbox) -> str:
    made = sandbox.contractor()
    sandbox.run(contractors.delete, made["id"])
    return made["id"]


def _quote_updated(sandbox: Sandbox) -> str:
    quote = sandbox.underwritten(coverage_type=["general"])["quote"]
    sandbox.run(quotes.update, quote["id"], {"coverage_type": ["general", "workers-comp"]})
    return quote["id"]


def _accepted(sandbox: Sandbox, *, claims_reported: bool = False) -> str:
    """A new session, accepted on its page (with claims reported: sent to manual review)."""
    session = sandbox.session(sandbox.underwritten()["quote"]["id"])

    def accept(uow) -> None:
        record = uow.application_sessions.locked(session["id"])
        application_sessions.accept(uow, record, claims_reported=claims_reported)

    sandbox.run(accept)
    return session["id"]


def _application_complete(sandbox: Sandbox) -> str:
    return _accepted(sandbox)


def _opened(sandbox: Sandbox, session_id: str) -> str:
    """The contractor opens the session's page."""
    sandbox.run(
        lambda uow: application_sessions.opened(uow, uow.application_sessions.get(session_id))
    )
    return session_id


def _application_started(sandbox: Sandbox) -> str:
    return _opened(sandbox, sandbox.session(sandbox.underwritten()["quote"]["id"])["id"])


def _application_ineligible(sandbox: Sandbox) -> str:
    # The quote loses the workers' comp its entity requires, then the contractor opens the page.
    made = sandbox.underwritten()
    session = sandbox.session(made["quote"]["id"])
    sandbox.run(quotes.update, made["quote"]["id"], {"coverage_type": ["general"]})
    return _opened(sandbox, session["id"])


def _reviewed_application(sandbox: Sandbox) -> str:
    return _accepted(sandbox, claims_reported=True)


def _application_review_approved(sandbox: Sandbox) -> str:
    # Sent to review just over a review's time ago: its outcome has come.
    return _reviewed_application(sandbox.earlier(application_sessions.REVIEW_TIME + 60))


def _application_expired(sandbox: Sandbox) -> str:
    # Opened 25 hours ago: it lapsed an hour ago.
    before = sandbox.earlier(application_sessions.LIFETIME + 3600)
    return before.session(before.underwritten()["quote"]["id"])["id"]


def _policy_updated(sandbox: Sandbox) -> str:
    policy = sandbox.bound()["policy"]
    shorter = policy["expiration_date"] - DAY
    sandbox.run(policies.update, policy["id"], {"expiration_date": shorter})
    return policy["id"]


def _policy_cancelled(sandbox: Sandbox) -> str:
    policy = sandbox.bound()["policy"]
    sandbox.run(policies.update, policy["id"], {"is_active": False})
    return policy["id"]


def _policy_reactivated(sandbox: Sandbox) -> str:
    policy_id = _policy_cancelled(sandbox)
    sandbox.run(policies.update, policy_id, {"is_active": True})
    return policy_id


def _policy_expired(sandbox: Sandbox) -> str:
    # Bound three days ago for a day, from an hour after: it expired yesterday.
    before = sandbox.earlier(3 * DAY)
    at = before.at
    assert at is not None  # earlier() sets it
    dates = {"effective_date": at + 3600, "end_date": at + 3600 + DAY}
    return before.bound(**dates)["policy"]["id"]


def _assignment_updated(sandbox: Sandbox) -> str:
    # An assignment without coverage (no policy yet) changes freely.
    made = sandbox.underwritten()
    assignment = sandbox.assignment(made["contractor"]["id"], made["job"]["id"])
    later = assignment["end_date"] - DAY
    sandbox.run(assignments.update, assignment["id"], {"end_date": later})
    return assignment["id"]


def _assignment_extended(sandbox: Sandbox) -> str:
    # Reported once the worker has regenerated the certificates.
    assignment = sandbox.assigned()["assignment"]
    later = assignment["end_date"] + DAY
    sandbox.run(assignments.extend, assignment["job"], later, send_email=False)
    return assignment["id"]


def _assignment_cancelled(sandbox: Sandbox) -> str:
    # Assigned from tomorrow (the default start), so it can still be cancelled.
    assignment = sandbox.assigned()["assignment"]
    sandbox.run(assignments.cancel, assignment["job"], "client_request")
    return assignment["id"]


def _assignment_voided(sandbox: Sandbox) -> str:
    assignment = sandbox.assigned()["assignment"]
    sandbox.run(assignments.delete, assignment["id"])
    return assignment["id"]


def _invoice(sandbox: Sandbox, made: dict[str, dict] | None = None) -> dict:
    made = made or sandbox.bound()
    start = made["policy"]["effective_date"]
    body = example(
        "InvoiceCreate",
        contractor=made["contractor"]["id"],
        job=made["job"]["id"],
        paycycle_startdate=start,
        paycycle_enddate=start + 7 * DAY - 1,
    )
    return sandbox.run(invoices.create, body)


def _invoice_charged(sandbox: Sandbox, email: str | None = None) -> str:
    # Made a day and an hour ago: its contractor's card was charged an hour ago.
    before = sandbox.earlier(invoices.CHARGE_DELAY + 3600)
    made = before.bound()
    if email is not None:
        before.run(contractors.update, made["contractor"]["id"], {"email": email})
    return _invoice(before, made)["id"]


def _invoice_charge_failed(sandbox: Sandbox) -> str:
    return _invoice_charged(sandbox, email=f"joe{invoices.DECLINING_CARD}@example.com")


def _invoice_updated(sandbox: Sandbox) -> str:
    invoice = _invoice(sandbox)
    sandbox.run(invoices.update, invoice["id"], example("InvoiceUpdate"))
    return invoice["id"]


def _invoice_paid(sandbox: Sandbox) -> str:
    invoice = _invoice(sandbox)
    sandbox.run(invoices.update, invoice["id"], {"status": invoices.PAID})
    return invoice["id"]


def _invoice_deleted(sandbox: Sandbox) -> str:
    invoice = _invoice(sandbox)
    sandbox.run(invoices.delete, invoice["id"])
    return invoice["id"]


# The lines of a certificate whose review ends each way, for the example entity's contractor.
CERTIFICATE_LINES = {
    "approved": MEETS_THE_EXAMPLE,
    "flagged": MEETS_THE_EXAMPLE[:2],
    "denied": (*MEETS_THE_EXAMPLE, "Sandbox outcome: denied"),
    "error": ("Sandbox outcome: error",),
}


def _certificate_reviewed(outcome: str) -> Trigger:
    """A certificate uploaded for a contractor of the example entity, whose text makes its
    review end `outcome` (the worker reviews it as the trigger finishes)."""

    def trigger(sandbox: Sandbox) -> str:
        contractor = sandbox.underwritten()["contractor"]["id"]
        return sandbox.certificate(contractor, *CERTIFICATE_LINES[outcome])["id"]

    return trigger


def _category_code_added(sandbox: Sandbox) -> str:
    # Added to the catalogue (every account reads it), announced in this sandbox alone.
    now = sandbox.now()
    fields = job_categories.new_category(
        f"Sandbox category {now}",
        "A category a trigger added to the catalogue.",
        "medium",
        ["general", "workers-comp"],
    )
    with sandbox.database.server_work() as work:
        category = work.job_categories.add(fields, now)
    sandbox.run(job_categories.announce, category)
    return category["id"]


# A seeded category that carries media liability (Photography).
MEDIA_CATEGORY = "jc_GnnsLt3Ckw"


def _policy_active_media(sandbox: Sandbox) -> str:
    contractor = sandbox.contractor(years_experience=10)["id"]
    entity = sandbox.entity(required_coverage=["general"])["id"]
    job = sandbox.job(entity, category_code=MEDIA_CATEGORY)["id"]
    quote = sandbox.quote(contractor, job, coverage_type=["general", "media"])
    return sandbox.policy(quote["id"])["id"]


TRIGGERS: dict[str, Trigger] = {
    "contractor.created": lambda sandbox: sandbox.contractor()["id"],
    "contractor.updated": _contractor_updated,
    "contractor.deleted": _contractor_deleted,
    "quote.created": lambda sandbox: sandbox.underwritten()["quote"]["id"],
    "quote.updated": _quote_updated,
    "application.created": lambda s: s.session(s.underwritten()["quote"]["id"])["id"],
    "application.started": _application_started,
    "application.ineligible": _application_ineligible,
    "application.manual_review": _reviewed_application,
    "application.manual_review_approved": _application_review_approved,
    "application.complete": _application_complete,
    "application.expired": _application_expired,
    "policy.created": lambda sandbox: sandbox.bound()["policy"]["id"],
    "policy.active": lambda sandbox: sandbox.bound()["policy"]["id"],
    "policy.active.media": _policy_active_media,
    "policy.updated": _policy_updated,
    "policy.cancelled": _policy_cancelled,
    "policy.reactivated": _policy_reactivated,
    "policy.expired": _policy_expired,
    "assignment.created": lambda sandbox: sandbox.assigned()["assignment"]["id"],
    "assignment.active": lambda sandbox: sandbox.assigned()["assignment"]["id"],
    "assignment.updated": _assignment_updated,
    "assignment.extended": _assignment_extended,
    "assignment.cancelled": _assignment_cancelled,
    "assignment.deleted": _assignment_voided,
    "invoice.created": lambda sandbox: _invoice(sandbox)["id"],
    "invoice.updated": _invoice_updated,
    "invoice.paid": _invoice_paid,
    "invoice.charge_card_succeeded": _invoice_charged,
    "invoice.charge_card_failed": _invoice_charge_failed,
    "invoice.deleted": _invoice_deleted,
    **{f"certificate.{o}": _certificate_reviewed(o) for o in CERTIFICATE_LINES},
    "category_code.added": _category_code_added,
}


@dataclass(frozen=True)
class Delivery:
    url: str
    outcome: str


@dataclass(frozen=True)
class Fired:
    events: list[dict]
    deliveries: list[Delivery]


def fire(
    database: Database, settings: Settings, account_id: str, event_type: str, wait: float = 5
) -> Fired:
    """Make `event_type` happen in the account's sandbox, as the worker would finish it (an
    expiry announced, certificates regenerated), and attempt its deliveries at once. A running
    server's worker may attempt them first: their outcomes are awaited for up to `wait`
    seconds."""
    sandbox = Sandbox(database, account_id)
    object_id = TRIGGERS[event_type](sandbox)
    expiries.announce_due(database)
    run_due(database, settings)
    events = sandbox.run(lambda uow: uow.events.about(object_id, event_type))
    with webhooks.client() as client:
        webhooks.deliver_due(database, settings, client, principal=sandbox.principal)
    deadline = time.monotonic() + wait
    while True:
        made = [pair for event in events for pair in sandbox.run(_deliveries_of, event["id"])]
        if time.monotonic() > deadline or all(d["attempts"] for _url, d in made):
            break
        time.sleep(0.2)
    return Fired(events, [Delivery(url, _outcome(delivery)) for url, delivery in made])


def _deliveries_of(uow, event_id: str) -> list[tuple[str, dict]]:
    return uow.webhook_endpoints.deliveries_of_event(event_id)


def _outcome(delivery: dict) -> str:
    if not delivery["attempts"]:
        return "pending, not attempted yet (each object's events are delivered in order)"
    last = delivery["attempts"][-1]
    answered = "" if last["status_code"] is None else f"answered {last['status_code']}"
    if delivery["status"] == "delivered":
        return f"delivered ({answered})"
    retry = delivery["next_attempt_at"]
    when = "no more retries" if retry is None else f"retried at {_when(retry)}"
    return f"{delivery['status']}: {last['error'] or answered}; {when}"


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
