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
from collections.abc import Callable, Sequence
from typing import Protocol

from connexion.security import NO_VALUE, BasicSecurityHandler, BearerSecurityHandler

from server.core import logs
from server.core.errors import AuthenticationFailed
from server.core.principals import ALL_KEY_PREFIXES, Principal, hash_key
from server.middleware.errors import RequestRefused
from server.store import keys
from server.store.db import Database


class FailureBudget(Protocol):
    """The budget of failed authentications of each client address (a RateLimiter)."""

    @property
    def items(self) -> Sequence[object]:  # its limits: none when it is off
        ...

    async def spent(self, identity: str) -> int | None: ...

    async def retry_after(self, identity: str) -> int | None: ...


ENVIRONMENT_HEADER = "Ten99Policy-Environment"
KEY_CACHE_SECONDS = 1.0  # how long a key's lookup is trusted: revocation takes this long
KEY_CACHE_SIZE = 10_000


class KeyCache:
    """Keys as the database last said, found or not, for KEY_CACHE_SECONDS; and the budget of
    failed authentications of each client address (`failures`)."""

    def __init__(self, database: Database, failures: FailureBudget | None = None):
        self.database = database
        self.failures = failures if failures is not None and failures.items else None
        self._entries: dict[bytes, tuple[keys.StoredKey | None, float]] = {}

    def was_valid(self, digest: bytes) -> bool:
        """Whether the key was valid when last looked up: one a client has used before."""
        cached = self._entries.get(digest)
        return cached is not None and cached[0] is not None

    async def find(self, key: str, digest: bytes) -> keys.StoredKey | None:
        now = time.monotonic()
        cached = self._entries.get(digest)
        if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
            return cached[0]
        found = await self.database.run(lambda: self._lookup(key))
        if len(self._entries) >= KEY_CACHE_SIZE:
            self._entries.pop(next(iter(self._entries)))
        self._entries[digest] = (found, now)
        return found

    def _lookup(self, key: str) -> keys.StoredKey | None:
        with self.database.server_work(write=False) as work:
            return work.keys.find_active(hash_key(key))


async def authenticate(cache: KeyCache, key: str, client: str | None = None) -> dict:
    """The token_info connexion hands on, for a key presented by a request from `client` (an
    address). The key decides the environment: a `Ten99Policy-Environment` header naming the
    other one is not refused (the official Node library sends `production` whatever its key),
    and the response says which environment answered it.

    A client address whose failures spent its budget gets 429 without a lookup, unless it
    presents a key that was valid when last looked up: a scan of random keys is cut off, a
    client that knows its key keeps being served."""
    # By the key's hash: the cache holds no key a memory dump could reveal.
    digest = hashlib.sha256(key.encode()).digest()
    failures = cache.failures if client is not None and not cache.was_valid(digest) else None
    # `failures` implies a client address; checking both lets mypy see it.
    if (
        failures is not None
        and client is not None
        and (wait := await failures.spent(client)) is not None
    ):
        raise RequestRefused(
            429,
            "rate_limit",
            f"Too many requests with an invalid API key from this address; retry in {wait} "
            "second(s).",
            headers={"Retry-After": str(wait)},
        )
    found = await cache.find(key, digest) if key else None
    if found is None:
        if failures is not None and client is not None:
            await failures.retry_after(client)  # spends one failure of the budget
        raise AuthenticationFailed("The API key provided is not valid.")
    logs.bind(account=found.account_id, environment=found.environment.value)
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
        client = request.scope.get("client")
        return authenticate(cache, key_of(value), client[0] if client else None)

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
