"""The idempotency headers: the key a request sends (under either name), and the header of an
answer replayed for it (server/middleware/idempotency.py; the request log reads them too)."""

KEY_HEADER = "Ten99Policy-Idempotent-Key"
KEY_ALIAS = "Idempotency-Key"
REPLAYED_HEADER = "Ten99Policy-Idempotent-Replayed"
