"""Saved responses of POSTs with an idempotency key: claimed when the operation starts,
completed with its response, released when it fails on the server's side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.core.principals import Principal
from server.store.tables import idempotency_keys as table


@dataclass(frozen=True)
class SavedResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What a request finds for its key: its own claim, someone else's run, or a result."""

    outcome: Literal["claimed", "in_progress", "mismatch", "replay"]
    response: SavedResponse | None = None


def _this_key(principal: Principal, key: str):
    return (
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
        table.c.key == key,
    )


class IdempotencyKeys:
    """Every account's idempotency keys, in the transaction of the server's work."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def claim(
        self,
        principal: Principal,
        key: str,
        request_hash: str,
        *,
        now: int,
        ttl: int,
        abandoned_after: int,
    ) -> Claim:
        """Claim `key` for a request about to run, unless an earlier request holds it.

        A saved response past its expiry no longer counts; a run that has held its claim longer
        than `abandoned_after` seconds without finishing belongs to a process that died, and may
        be taken over."""
        this_key = _this_key(principal, key)
        self.connection.execute(delete(table).where(*this_key, table.c.expires_at <= now))
        try:
            with self.connection.begin_nested():
                self.connection.execute(
                    insert(table).values(
                        account_id=principal.account_id,
                        environment=principal.environment.value,
                        key=key,
                        request_hash=request_hash,
                        locked_at=now,
                        expires_at=now + ttl,
                    )
                )
            return Claim("claimed")
        except IntegrityError:
            pass
        row = self.connection.execute(select(table).where(*this_key)).first()
        if row is None:  # released between our insert and our read: the caller may simply retry
            return Claim("in_progress")
        if row.request_hash != request_hash:
            return Claim("mismatch")
        if row.response_status is not None:
            return Claim(
                "replay",
                SavedResponse(row.response_status, dict(row.response_headers), row.response_body),
            )
        if row.locked_at <= now - abandoned_after:
            taken = self.connection.execute(
                update(table)
                .where(*this_key, table.c.locked_at == row.locked_at)
                .values(locked_at=now, expires_at=now + ttl)
            )
            if taken.rowcount == 1:
                return Claim("claimed")
        return Claim("in_progress")

    def complete(self, principal: Principal, key: str, response: SavedResponse) -> None:
        self.connection.execute(
            update(table)
            .where(*_this_key(principal, key))
            .values(
                response_status=response.status,
                response_headers=response.headers,
                response_body=response.body,
            )
        )

    def release(self, principal: Principal, key: str) -> None:
        self.connection.execute(
            delete(table).where(*_this_key(principal, key), table.c.response_status.is_(None))
        )

    def purge_expired(self, now: int) -> int:
        return self.connection.execute(delete(table).where(table.c.expires_at <= now)).rowcount
