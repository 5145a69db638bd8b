"""A whole sandbox at once: what `ten99-server examples --reset` starts over from."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from server.core.principals import Principal
from server.store.tables import api_keys, metadata


def wipe(connection: Connection, principal: Principal) -> None:
    """Delete every object, event, delivery, document, email, task and idempotency record of
    the account's environment (its API keys stay)."""
    for table in reversed(metadata.sorted_tables):
        if table is api_keys or not {"account_id", "environment"} <= set(table.c.keys()):
            continue
        connection.execute(
            delete(table).where(
                table.c.account_id == principal.account_id,
                table.c.environment == principal.environment.value,
            )
        )
