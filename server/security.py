"""API-key authentication for connexion: Bearer and Basic both carry the secret key.

The handlers below replace connexion's own so that a request costs no per-request signature
inspection, and a key is looked up in the database at most once a second per process: a
revoked key is refused within a second everywhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable

from connexion.security import NO_VALUE, BasicSecurityHandler, BearerSecurityHandler

from server.core.errors import AuthenticationFailed
from server.core.principals import ALL_KEY_PREFIXES, Principal, hash_key
from server.store import keys
from server.store.db import Database

ENVIRONMENT_HEADER = "Ten99Policy-Environment"
KEY_CACHE_SECONDS = 1.0  # how long a key's lookup is trusted: revocation takes this long
KEY_CACHE_SIZE = 10_000


class KeyCache:
    """Keys as the database last said, found or not, for KEY_CACHE_SECONDS."""

    def __init__(self, database: Database):
        self.database = database
        self._entries: dict[bytes, tuple[keys.StoredKey | None, float]] = {}

    async def find(self, key: str) -> keys.StoredKey | None:
        # By the key's hash: the cache holds no key a memory dump could reveal.
        digest = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        cached = self._entries.get(digest)
        if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
            return cached[0]
        found = await self.database.run(lambda: self._lookup(key), write=False)
        if len(self._entries) >= KEY_CACHE_SIZE:
            self._entries.pop(next(iter(self._entries)))
        self._entries[digest] = (found, now)
        return found

    def _lookup(self, key: str) -> keys.StoredKey | None:
        with self.database.transaction(write=False) as connection:
            return keys.KeyStore(connection).find_active(hash_key(key))


async def authenticate(cache: KeyCache, key: str) -> dict:
    """The token_info connexion hands on, for a key presented by a request. The key decides the
    environment: a `Ten99Policy-Environment` header naming the other one is not refused (the
    official Node library sends `production` whatever its key), and the response says which
    environment answered it."""
    found = await cache.find(key) if key else None
    if found is None:
        raise AuthenticationFailed("The API key provided is not valid.")
    return {
        "sub": found.account_id,
        "key_id": found.id,
        "principal": Principal(found.account_id, found.environment),
    }


def token_info_of(scope) -> dict | None:
    """What `authenticate` returned for this request, once connexion's security has run."""
    return scope.get("extensions", {}).get("connexion_context", {}).get("token_info")


def _authorization(request) -> tuple[str | None, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    return (scheme.lower() or None), value.strip()


def _basic_username(value: str) -> str:
    # The documents' own examples send the bare key after "Basic"; accept that too.
    if value.startswith(ALL_KEY_PREFIXES):
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("The Basic credentials are not valid base64.") from None
    return decoded.partition(":")[0]


def _verifier(cache: KeyCache, scheme: str, key_of: Callable[[str], str]):
    """connexion's check for one scheme: NO_VALUE when the request uses another."""

    def verify(request):
        presented, value = _authorization(request)
        if presented != scheme:
            return NO_VALUE
        return authenticate(cache, key_of(value))

    return verify


def security_map(cache: KeyCache) -> dict:
    """connexion's `security_map`: our Bearer and Basic checks, looking keys up in `cache`."""

    class BearerKeyHandler(BearerSecurityHandler):
        def get_fn(self, security_scheme, required_scopes):
            return _verifier(cache, "bearer", str)

    class BasicKeyHandler(BasicSecurityHandler):
        def get_fn(self, security_scheme, required_scopes):
            return _verifier(cache, "basic", _basic_username)

    return {"bearer": BearerKeyHandler, "basic": BasicKeyHandler}
