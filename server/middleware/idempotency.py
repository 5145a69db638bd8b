"""Idempotent POSTs: the first response to a key is saved in the database and replayed.

It runs after authentication and validation, just before the operation: it claims the key, or
answers from what an earlier request left (replay, 409 while running, 400 for a different
request). The operation answers its own refusals (server/middleware/operations.py), so this
layer sees every response the operation gives and saves it for the claim, a server error
included (as the documents say: a retry gets the first result "including 500 errors"). Only a
request cancelled before any answer releases its claim. Expired keys are purged by the
background worker, not here.
"""

from __future__ import annotations

import hashlib
import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core import clock
from server.core.idempotency import KEY_ALIAS, KEY_HEADER, REPLAYED_HEADER
from server.core.principals import Principal
from server.middleware.errors import RequestRefused, send_refusal, unexpected_refusal
from server.middleware.security import token_info_of
from server.middleware.validation import CHECKED
from server.store import idempotency
from server.store.db import Database

TTL_SECONDS = 24 * 60 * 60
# A claim held this long without a response belongs to a process that died mid-request.
ABANDONED_AFTER_SECONDS = 5 * 60
# Of a saved response, the headers a replay repeats; request-id and the like are per request.
SHOULD_RETRY_HEADER = "Ten99Policy-Should-Retry"
SHOULD_RETRY = SHOULD_RETRY_HEADER.lower().encode()
SAVED_HEADERS = ("content-type", "location", SHOULD_RETRY_HEADER.lower())


class Idempotency:
    def __init__(self, app: ASGIApp, database: Database):
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        checked = scope.get(CHECKED)
        token_info = token_info_of(scope)
        if scope["type"] != "http" or scope["method"] != "POST" or not checked or not token_info:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(KEY_HEADER) or headers.get(KEY_ALIAS)
        if not key:
            await self.app(scope, receive, send)
            return
        principal: Principal = token_info["principal"]
        request_hash = fingerprint(scope["method"], scope["path"], checked.raw_body)
        found = await self.database.run(lambda: self._claim(principal, key, request_hash))
        if found.outcome == "mismatch":
            raise RequestRefused(
                400,
                "idempotency",
                "This idempotency key was already used for a different request; "
                "use a new key for a new request.",
                param=KEY_HEADER,
            )
        if found.outcome == "in_progress":
            raise RequestRefused(
                409,
                "idempotency",
                "A request with this idempotency key is still in progress; retry later.",
                param=KEY_HEADER,
            )
        if found.outcome == "replay":
            assert found.response is not None  # a replay carries the saved response
            await _send_replay(send, found.response)
            return
        await self._run_claimed(scope, receive, send, principal, key)

    async def _run_claimed(self, scope, receive, send, principal: Principal, key: str) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                if _says_retry(held[0]):  # nothing was done, as the answer says: not saved
                    await self._release(principal, key)
                else:
                    await self._settle(principal, key, held)
                for each in held:
                    await send(each)

        try:
            await self.app(scope, receive, hold)
        except Exception as error:
            if held:
                raise
            # Answered here rather than by the error handlers outside, so that it is saved.
            await send_refusal(hold, unexpected_refusal(error))
        except BaseException:  # cancelled: nothing was answered, and a retry runs again
            if not held:
                await self._release(principal, key)
            raise

    def _claim(self, principal: Principal, key: str, request_hash: str) -> idempotency.Claim:
        now = clock.now()
        with self.database.server_work() as work:
            return work.idempotency_keys.claim(
                principal,
                key,
                request_hash,
                now=now,
                ttl=TTL_SECONDS,
                abandoned_after=ABANDONED_AFTER_SECONDS,
            )

    async def _settle(self, principal: Principal, key: str, messages: list[Message]) -> None:
        start = messages[0]
        if start["status"] >= 500:
            # Saved like any other answer, as the documents say; the client libraries retry a
            # 5xx unless told that a retry would only get it again.
            start["headers"] = [*start.get("headers", []), (SHOULD_RETRY, b"false")]
        headers = Headers(raw=start.get("headers", []))
        saved = idempotency.SavedResponse(
            status=start["status"],
            headers={name: headers[name] for name in SAVED_HEADERS if name in headers},
            body=b"".join(m.get("body", b"") for m in messages[1:]),
        )

        def complete() -> None:
            with self.database.server_work() as work:
                work.idempotency_keys.complete(principal, key, saved)

        await self.database.run(complete)

    async def _release(self, principal: Principal, key: str) -> None:
        def release() -> None:
            with self.database.server_work() as work:
                work.idempotency_keys.release(principal, key)

        await self.database.run(release)


def _says_retry(start: Message) -> bool:
    return Headers(raw=start.get("headers", [])).get(SHOULD_RETRY_HEADER) == "true"


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request, for an idempotency key: method, path, and the
    body's JSON value (key order and spacing aside), or its bytes when it is not JSON."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


async def _send_replay(send: Send, response: idempotency.SavedResponse) -> None:
    headers = [(name.encode(), value.encode()) for name, value in response.headers.items()]
    headers += [
        (b"content-length", str(len(response.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
