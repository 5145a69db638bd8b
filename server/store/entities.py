"""Contracting entity rows."""

from server.store.records import Records
from server.store.tables import entities

ENTITIES = Records(entities, "en")
