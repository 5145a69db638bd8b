"""Accounts and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.core.ids import new_id
from server.core.principals import Environment, Principal
from server.store.tables import accounts, api_keys


@dataclass(frozen=True)
class StoredKey:
    id: str
    account_id: str
    environment: Environment
    key_hint: str
    created: int
    revoked_at: int | None


class KeyStore:
    """API keys (stored as hashes) and the accounts they belong to."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def account_exists(self, account_id: str) -> bool:
        query = select(accounts.c.id).where(accounts.c.id == account_id)
        return self.connection.execute(query).first() is not None

    def ensure_account(self, account_id: str, at: int) -> None:
        if not self.account_exists(account_id):
            self._insert_unless_present(accounts, id=account_id, name=account_id, created=at)

    def add(
        self,
        key_hash: str,
        key_hint: str,
        account_id: str,
        environment: Environment,
        at: int,
        *,
        unless_present: bool = False,
    ) -> None:
        """Store a key's hash for an account, creating the account if it is new; with
        `unless_present`, leave a key already stored with this hash as it is (processes
        starting together, each given the same key)."""
        self.ensure_account(account_id, at)
        values = {
            "id": new_id("key"),
            "account_id": account_id,
            "environment": environment.value,
            "key_hash": key_hash,
            "key_hint": key_hint,
            "created": at,
        }
        if unless_present:
            self._insert_unless_present(api_keys, **values)
        else:
            self.connection.execute(insert(api_keys).values(**values))

    def _insert_unless_present(self, table: Table, **values) -> None:
        """An insert that a row already there (any unique column the same) leaves as it is: a
        concurrent one waits for the other's commit, then does nothing."""
        dialect = sqlite if self.connection.dialect.name == "sqlite" else postgresql
        self.connection.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())

    def exists(self, key_hash: str) -> bool:
        query = select(api_keys.c.id).where(api_keys.c.key_hash == key_hash)
        return self.connection.execute(query).first() is not None

    def count_active(self) -> int:
        return self.connection.execute(
            select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        ).scalar_one()

    def find_active(self, key_hash: str) -> StoredKey | None:
        """The stored record of an active (not revoked) key, by the key's hash; or None."""
        active = api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        row = self.connection.execute(select(api_keys).where(*active)).first()
        return None if row is None else _stored(row)

    def list(
        self, account_id: str | None = None, environment: Environment | None = None
    ) -> list[StoredKey]:
        query = select(api_keys).order_by(api_keys.c.created, api_keys.c.id)
        if account_id is not None:
            query = query.where(api_keys.c.account_id == account_id)
        if environment is not None:
            query = query.where(api_keys.c.environment == environment.value)
        return [_stored(row) for row in self.connection.execute(query)]

    def principals(self) -> tuple[Principal, ...]:
        """Every account and environment that has a key not revoked: those the API serves."""
        query = (
            select(api_keys.c.account_id, api_keys.c.environment)
            .where(api_keys.c.revoked_at.is_(None))
            .distinct()
            .order_by(api_keys.c.account_id, api_keys.c.environment)
        )
        return tuple(
            Principal(row.account_id, Environment(row.environment))
            for row in self.connection.execute(query)
        )

    def revoke(self, key_id: str, at: int) -> StoredKey | None:
        """Revoke a key by its id; the key as it was found (maybe revoked already), or None."""
        row = self.connection.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            return None
        if row.revoked_at is None:
            self.connection.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=at)
            )
        return _stored(row)


def _stored(row) -> StoredKey:
    return StoredKey(
        id=row.id,
        account_id=row.account_id,
        environment=Environment(row.environment),
        key_hint=row.key_hint,
        created=row.created,
        revoked_at=row.revoked_at,
    )
