"""Accounts and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from server.domain.accounts import Environment, hash_key
from server.domain.clock import now
from server.domain.ids import new_id
from server.store.tables import accounts, api_keys


@dataclass(frozen=True)
class StoredKey:
    id: str
    account_id: str
    environment: Environment
    key_hint: str
    created: int
    revoked_at: int | None


def ensure_account(session: Session, account_id: str, name: str | None = None) -> None:
    exists = session.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first()
    if exists is None:
        session.execute(
            insert(accounts).values(id=account_id, name=name or account_id, created=now())
        )


def add_key(session: Session, key: str, account_id: str, environment: Environment) -> StoredKey:
    """Store a key (hashed) for an account, creating the account if it is new."""
    ensure_account(session, account_id)
    stored = StoredKey(
        id=new_id("key"),
        account_id=account_id,
        environment=environment,
        key_hint=key[:13],
        created=now(),
        revoked_at=None,
    )
    session.execute(
        insert(api_keys).values(
            id=stored.id,
            account_id=account_id,
            environment=environment.value,
            key_hash=hash_key(key),
            key_hint=stored.key_hint,
            created=stored.created,
        )
    )
    return stored


def key_exists(session: Session, key: str) -> bool:
    row = session.execute(select(api_keys.c.id).where(api_keys.c.key_hash == hash_key(key)))
    return row.first() is not None


def count_active_keys(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
    ).scalar_one()


def find_active(session: Session, key_hash: str) -> StoredKey | None:
    """The stored record of an active (not revoked) key, by the key's hash; or None."""
    active = api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
    row = session.execute(select(api_keys).where(*active)).first()
    return None if row is None else _stored(row)


def list_keys(
    session: Session, account_id: str | None = None, environment: Environment | None = None
) -> list[StoredKey]:
    query = select(api_keys).order_by(api_keys.c.created, api_keys.c.id)
    if account_id is not None:
        query = query.where(api_keys.c.account_id == account_id)
    if environment is not None:
        query = query.where(api_keys.c.environment == environment.value)
    return [_stored(row) for row in session.execute(query)]


def revoke(session: Session, key_id: str, revoked_at: int) -> StoredKey | None:
    """Revoke a key by its id; the key as it was found (maybe revoked already), or None."""
    row = session.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        return None
    if row.revoked_at is None:
        session.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=revoked_at)
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
