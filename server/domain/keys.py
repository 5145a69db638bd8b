"""Creating, listing and revoking API keys, and the keys that must exist at start-up. The
caller (the command line, the app's start-up) opens the transaction and hands over its keys."""

from __future__ import annotations

from server.core import clock
from server.core.errors import NotFound
from server.core.principals import (
    ALL_KEY_PREFIXES,
    DEFAULT_ACCOUNT,
    Environment,
    generate_key,
    hash_key,
    key_environment,
)
from server.store.keys import KeyStore, StoredKey

KEY_HINT_LENGTH = 13  # the first characters of a key, shown so that people can tell keys apart


def ensure_key(keys: KeyStore, key: str, account_id: str = DEFAULT_ACCOUNT) -> None:
    """Make `key` (TEN99_API_KEY) a key of `account_id`, in the environment its prefix names."""
    environment = key_environment(key)
    if environment is None:
        raise ValueError(f"TEN99_API_KEY must start with one of {', '.join(ALL_KEY_PREFIXES)}")
    if not keys.exists(hash_key(key)):
        # Processes started together each ensure it: the first one's stays.
        _add(keys, key, account_id, environment, unless_present=True)


def _add(
    keys: KeyStore,
    key: str,
    account_id: str,
    environment: Environment,
    *,
    unless_present: bool = False,
) -> None:
    hint = key[:KEY_HINT_LENGTH]
    keys.add(
        hash_key(key), hint, account_id, environment, clock.now(), unless_present=unless_present
    )


def create_key(keys: KeyStore, environment: Environment, account_id: str = DEFAULT_ACCOUNT) -> str:
    key = generate_key(environment)
    _add(keys, key, account_id, environment)
    return key


def first_key_if_none(keys: KeyStore) -> str | None:
    """A new sandbox key when no active key exists at all; None otherwise."""
    if keys.count_active():
        return None
    return create_key(keys, Environment.SANDBOX)


def revoke_key(keys: KeyStore, key_id: str) -> StoredKey:
    """Revoke a key; requests with it answer 401 from then on. Revoking twice is harmless."""
    found = keys.revoke(key_id, clock.now())
    if found is None:
        raise NotFound("API key", key_id)
    return found
