"""Contractor rows."""

from server.store.records import Records
from server.store.tables import contractors

# The tax id is stored but never shown: it is write-only.
CONTRACTORS = Records(contractors, "cn", write_only=frozenset({"tax_identification"}))
