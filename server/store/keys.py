"""Accounts and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
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


def find_principal(session: Session, key: str) -> tuple[str, Environment] | None:
    """The account and environment of an active key, or None."""
    row = session.execute(
        select(api_keys.c.account_id, api_keys.c.environment).where(
            api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return row.account_id, Environment(row.environment)
