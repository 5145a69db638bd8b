"""Creating API keys, and the keys that must exist when the server starts."""

from __future__ import annotations

from server.domain.accounts import DEFAULT_ACCOUNT, Environment, generate_key, key_environment
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
