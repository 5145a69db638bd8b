"""Creating, listing and revoking API keys, and the keys that must exist at start-up."""

from __future__ import annotations

from server.domain.accounts import DEFAULT_ACCOUNT, Environment, generate_key, key_environment
from server.domain.clock import now
from server.domain.errors import NotFound
from server.store import keys
from server.store.db import Database


def ensure_key(db: Database, key: str, account_id: str = DEFAULT_ACCOUNT) -> None:
    """Make `key` (TEN99_API_KEY) a key of `account_id`, in the environment its prefix names."""
    environment = key_environment(key)
    if environment is None:
        raise ValueError("TEN99_API_KEY must start with t9k_test_ or t9k_live_")
    with db.transaction() as session:
        if not keys.key_exists(session, key):
            keys.add_key(session, key, account_id, environment)


def create_key(db: Database, environment: Environment, account_id: str = DEFAULT_ACCOUNT) -> str:
    key = generate_key(environment)
    with db.transaction() as session:
        keys.add_key(session, key, account_id, environment)
    return key


def first_key_if_none(db: Database) -> str | None:
    """A new sandbox key when no active key exists at all; None otherwise."""
    with db.transaction() as session:
        if keys.count_active_keys(session):
            return None
    return create_key(db, Environment.SANDBOX)


def list_keys(
    db: Database, account_id: str | None = None, environment: Environment | None = None
) -> list[keys.StoredKey]:
    with db.transaction() as session:
        return keys.list_keys(session, account_id, environment)


def revoke_key(db: Database, key_id: str) -> keys.StoredKey:
    """Revoke a key; requests with it answer 401 from then on. Revoking twice is harmless."""
    with db.transaction() as session:
        found = keys.revoke(session, key_id, now())
    if found is None:
        raise NotFound("API key", key_id)
    return found
