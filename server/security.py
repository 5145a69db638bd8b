"""API-key authentication for connexion: Bearer and Basic both carry the secret key.

The handlers below replace connexion's own so that a request costs one indexed key lookup and no
per-request signature inspection.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from connexion.security import NO_VALUE, BasicSecurityHandler, BearerSecurityHandler
from starlette.concurrency import run_in_threadpool

from server.domain.accounts import Environment, Principal
from server.domain.errors import AuthenticationFailed, PermissionDenied
from server.services import services_of
from server.store import keys

ENVIRONMENT_HEADER = "Ten99Policy-Environment"
KEY_PREFIX = "t9k_"


def _lookup(request, key: str) -> keys.StoredKey | None:
    with services_of(request.scope).database.transaction() as session:
        return keys.find_active(session, key)


async def authenticate(request, key: str) -> dict:
    """The token_info connexion hands to handlers, for a key presented by a request."""
    found = await run_in_threadpool(_lookup, request, key) if key else None
    if found is None:
        raise AuthenticationFailed("The API key provided is not valid.")
    key_environment = found.environment
    requested = request.headers.get(ENVIRONMENT_HEADER)
    # Values outside the enum are left to request validation, which answers 400.
    if requested in (Environment.SANDBOX, Environment.PRODUCTION) and requested != key_environment:
        kind = "test" if key_environment is Environment.SANDBOX else "live"
        raise PermissionDenied(
            f"A {kind} key cannot reach the {requested} environment; "
            f"it reaches {key_environment.value} only.",
            param=ENVIRONMENT_HEADER,
        )
    return {
        "sub": found.account_id,
        "key_id": found.id,
        "principal": Principal(found.account_id, key_environment),
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
    if value.startswith(KEY_PREFIX):
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("The Basic credentials are not valid base64.") from None
    return decoded.partition(":")[0]


def _verifier(scheme: str, key_of: Callable[[str], str]):
    """connexion's check for one scheme: NO_VALUE when the request uses another."""

    def verify(request):
        presented, value = _authorization(request)
        if presented != scheme:
            return NO_VALUE
        return authenticate(request, key_of(value))

    return verify


class BearerKeyHandler(BearerSecurityHandler):
    def get_fn(self, security_scheme, required_scopes):
        return _verifier("bearer", str)


class BasicKeyHandler(BasicSecurityHandler):
    def get_fn(self, security_scheme, required_scopes):
        return _verifier("basic", _basic_username)


SECURITY_MAP = {"bearer": BearerKeyHandler, "basic": BasicKeyHandler}
