"""Idempotent POSTs: the first response to a key is saved in the database and replayed.

Two middlewares share the work. `IdempotencyGate` runs after authentication and validation,
just before the operation: it claims the key, or answers from what an earlier request left
(replay, 409 while running, 400 for a different request). `IdempotencyRecorder` sits outside
the error handlers, so it sees the final response, error responses included, and saves it for
the claim; a server-side failure (5xx) releases the claim so that a retry can run again.
"""

from __future__ import annotations

import hashlib
import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.domain import clock
from server.domain.accounts import Principal
from server.middleware.body_size import read_body, replay_body
from server.middleware.errors import RequestRefused
from server.security import token_info_of
from server.store import idempotency
from server.store.db import Database

logger = logging.getLogger("server.idempotency")

KEY_HEADER = "Ten99Policy-Idempotent-Key"
KEY_ALIAS = "Idempotency-Key"
REPLAYED_HEADER = "Ten99Policy-Idempotent-Replayed"
TTL_SECONDS = 24 * 60 * 60
# A claim held this long without a response belongs to a process that died mid-request.
ABANDONED_AFTER_SECONDS = 5 * 60
PURGE_EVERY_SECONDS = 10 * 60
# Of a saved response, the headers a replay repeats; request-id and the like are per request.
SAVED_HEADERS = ("content-type", "location")
_CLAIM_STATE = "idempotency_claim"


class _Claimed:
    def __init__(self, database: Database, principal: Principal, key: str):
        self.database, self.principal, self.key = database, principal, key

    def complete(self, response: idempotency.SavedResponse) -> None:
        with self.database.transaction() as session:
            idempotency.complete(session, self.principal, self.key, response)

    def release(self) -> None:
        with self.database.transaction() as session:
            idempotency.release(session, self.principal, self.key)


class IdempotencyGate:
    def __init__(self, app: ASGIApp, database: Database):
        self.app = app
        self.database = database
        self.next_purge = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(KEY_HEADER) or headers.get(KEY_ALIAS)
        token_info = token_info_of(scope)
        if not key or not token_info:
            await self.app(scope, receive, send)
            return

        body = await read_body(receive)
        request_hash = fingerprint(scope["method"], scope["path"], body)
        principal: Principal = token_info["principal"]
        found = await run_in_threadpool(self._claim, principal, key, request_hash)

        if found.outcome == "mismatch":
            raise RequestRefused(
                400,
                "idempotency_key_reused",
                "This idempotency key was already used for a different request; "
                "use a new key for a new request.",
                param=KEY_HEADER,
            )
        if found.outcome == "in_progress":
            raise RequestRefused(
                409,
                "idempotency_request_in_progress",
                "A request with this idempotency key is still in progress; retry later.",
                param=KEY_HEADER,
            )
        if found.outcome == "replay":
            await _send_replay(send, found.response)
            return
        scope.setdefault("state", {})[_CLAIM_STATE] = _Claimed(self.database, principal, key)
        await self.app(scope, replay_body(body, receive), send)

    def _claim(self, principal: Principal, key: str, request_hash: str) -> idempotency.Claim:
        now = clock.now()
        with self.database.transaction() as session:
            found = idempotency.claim(
                session,
                principal,
                key,
                request_hash,
                now=now,
                ttl=TTL_SECONDS,
                abandoned_after=ABANDONED_AFTER_SECONDS,
            )
            if now >= self.next_purge:
                self.next_purge = now + PURGE_EVERY_SECONDS
                purged = idempotency.purge_expired(session, now)
                if purged:
                    logger.info("purged %d expired idempotency keys", purged)
        return found


class IdempotencyRecorder:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        settled = False

        async def hold_while_claimed(message: Message) -> None:
            nonlocal settled
            claim = scope.get("state", {}).get(_CLAIM_STATE)
            if claim is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await _settle(claim, held)
                settled = True
                for each in held:
                    await send(each)

        try:
            await self.app(scope, receive, hold_while_claimed)
        except BaseException:
            claim = scope.get("state", {}).get(_CLAIM_STATE)
            if claim is not None and not settled:
                await run_in_threadpool(claim.release)
            raise


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request, for an idempotency key: method, path, and the
    body's JSON value (key order and spacing aside), or its bytes when it is not JSON."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


async def _settle(claim: _Claimed, messages: list[Message]) -> None:
    start = messages[0]
    status = start["status"]
    if status >= 500:
        await run_in_threadpool(claim.release)
        return
    headers = Headers(raw=start.get("headers", []))
    saved = idempotency.SavedResponse(
        status=status,
        headers={name: headers[name] for name in SAVED_HEADERS if name in headers},
        body=b"".join(m.get("body", b"") for m in messages[1:]),
    )
    await run_in_threadpool(claim.complete, saved)


async def _send_replay(send: Send, response: idempotency.SavedResponse) -> None:
    headers = [(name.encode(), value.encode()) for name, value in response.headers.items()]
    headers += [
        (b"content-length", str(len(response.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
