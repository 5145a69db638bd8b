"""Quote rows."""

from server.store.records import Records
from server.store.tables import quotes

QUOTES = Records(quotes, "qt")
