"""What comes when: the moments of objects (an end, a review's outcome, a charge) the server
acts on and announces by an event once they have come in their sandbox's time (a test clock's,
or the wall clock), and what keeps one from coming."""

from __future__ import annotations

from server.store.clocks import Ending

# A policy expires on its expiration date, unless it was cancelled or deleted before.
POLICY_EXPIRY = Ending("policy", "policy", at="expiration_date", unless=("cancelled", "deleted_at"))
# An application session lapses when its time is up, unless it was completed.
SESSION_EXPIRY = Ending(
    "application_session", "application_session", at="expires_at", unless=("completed_at",)
)
# A manual review asked for on the hosted page ends, unless the session was completed.
REVIEW_END = Ending(
    "application_review",
    "application_session",
    at="review_ends_at",
    unless=("completed_at",),
    announced="review_announced",
)
# An invoice's premium is charged to the contractor's card, unless it was paid before.
INVOICE_CHARGE = Ending(
    "invoice_charge", "invoice", at="charge_at", unless=("paid_at",), announced="charge_announced"
)
ENDINGS = (POLICY_EXPIRY, SESSION_EXPIRY, REVIEW_END, INVOICE_CHARGE)
