"""Per-API-key rate limits with the `limits` library: in memory, or in Redis when configured so
that every server process draws on one budget. Fixed windows: one counter per key and window,
the least work a request can spend on it."""

from __future__ import annotations

import logging
import math
import os
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixedWindow
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from server.core.settings import OFF
from server.middleware.errors import RequestRefused
from server.middleware.security import token_info_of

logger = logging.getLogger("server.rate_limit")

REDIS_CLIENT_PREFIX = "ten99-server-"


class RateLimiter:
    def __init__(self, rate_limit: str, redis_url: str | None = None):
        """`rate_limit` in `limits` notation (several separated by ";"), or "off", as the
        settings have checked it."""
        self.items: list[RateLimitItem] = [] if rate_limit == OFF else parse_many(rate_limit)
        if redis_url:
            # Named by process, so that `CLIENT LIST` shows which server process holds what.
            storage = storage_from_string(
                f"async+{redis_url}",
                implementation="redispy",
                client_name=f"{REDIS_CLIENT_PREFIX}{os.getpid()}",
            )
        else:
            # The asynchronous memory store expires counters on the event loop; the synchronous
            # one starts a timer thread every 10 ms, and each start waits on the GIL.
            storage = storage_from_string("async+memory://")
        self.strategy = AsyncFixedWindow(storage)

    async def retry_after(self, identity: str) -> int | None:
        """Spend one request of `identity`'s budget; the seconds to wait when it is spent."""
        return await self._wait(identity, self.strategy.hit)

    async def spent(self, identity: str) -> int | None:
        """The seconds to wait if `identity`'s budget is spent already; spends nothing."""
        return await self._wait(identity, self.strategy.test)

    async def _wait(self, identity: str, within) -> int | None:
        for item in self.items:
            try:
                if await within(item, identity):
                    continue
                reset_time, _remaining = await self.strategy.get_window_stats(item, identity)
            except Exception:
                # An unreachable Redis must not take the API down with it: let the request in.
                logger.exception("rate limit storage failed; the request is let through")
                return None
            return max(1, math.ceil(reset_time - time.time()))
        return None


class RateLimitMiddleware:
    """Runs after authentication, so the budget is the API key's."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token_info = token_info_of(scope)
        if token_info and self.limiter.items:
            wait = await self.limiter.retry_after(token_info["key_id"])
            if wait is not None:
                raise RequestRefused(
                    429,
                    "rate_limit",
                    f"Too many requests for this API key; retry in {wait} second(s).",
                    headers={"Retry-After": str(wait)},
                )
        await self.app(scope, receive, send)
