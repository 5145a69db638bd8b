"""What ends when: the objects whose end the server announces by an event once it has come in
their sandbox's time (a test clock's, or the wall clock), and what keeps one from ending."""

from __future__ import annotations

from server.store.clocks import Ending

# A policy expires on its expiration date, unless it was cancelled or deleted before.
POLICY_EXPIRY = Ending("policy", at="expiration_date", unless=("cancelled", "deleted_at"))
# An application session lapses when its time is up, unless it was completed.
SESSION_EXPIRY = Ending("application_session", at="expires_at", unless=("completed_at",))
ENDINGS = (POLICY_EXPIRY, SESSION_EXPIRY)
