"""The words of the statuses the API shows, which the domain decides and the store queries by."""

from __future__ import annotations

# A webhook endpoint's: a disabled one is sent nothing.
ENABLED, DISABLED = "enabled", "disabled"
# A webhook delivery's: pending until an attempt succeeds, or its retries run out.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# A test clock's: advancing while the worker moves it to its target.
READY, ADVANCING = "ready", "advancing"
