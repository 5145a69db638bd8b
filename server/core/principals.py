"""Accounts, environments and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_ACCOUNT = "acct_default"


class Environment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


# The key prefixes of each environment: this server makes keys with the first; the official
# client libraries document theirs with the second, and such a key (TEN99_API_KEY) is taken too.
ACCEPTED_PREFIXES = {
    Environment.SANDBOX: ("t9k_test_", "t9sk_test_"),
    Environment.PRODUCTION: ("t9k_live_", "t9sk_live_"),
}
KEY_PREFIXES = {environment: prefixes[0] for environment, prefixes in ACCEPTED_PREFIXES.items()}
ALL_KEY_PREFIXES = tuple(prefix for prefixes in ACCEPTED_PREFIXES.values() for prefix in prefixes)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's account, and the environment the request runs in."""

    account_id: str
    environment: Environment


def generate_key(environment: Environment) -> str:
    return KEY_PREFIXES[environment] + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    # Keys carry 192 random bits, so a plain digest is enough to make a stolen table useless.
    return hashlib.sha256(key.encode()).hexdigest()


def key_environment(key: str) -> Environment | None:
    """The environment a key's prefix names, or None for a string that is no key of ours."""
    for environment, prefixes in ACCEPTED_PREFIXES.items():
        if key.startswith(prefixes):
            return environment
    return None
