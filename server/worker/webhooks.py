"""Delivering events to webhook endpoints: lease due deliveries in a short transaction, POST
each signed event outside any transaction (a slow endpoint holds no lock), record the attempts.

Each POST has one deadline for the whole exchange, connecting to the last byte of the answer's
head: a client's read timeouts bound each read, so a receiver trickling its answer a byte at a
time would hold an attempt for as long as it liked. Posts run on an event loop of the sender's
own, where a deadline cancels the exchange wherever it is."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import FIRST_COMPLETED, Future, wait
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import orjson
from yarl import URL

from server.api import representation
from server.core import clock, egress, logs, metrics
from server.core.egress import TargetPolicy
from server.core.principals import Environment, Principal
from server.core.settings import Settings
from server.core.statuses import DELIVERED, ENABLED, FAILED, PENDING
from server.domain import webhooks
from server.store.db import Database
from server.store.deliveries import Claim, Outcome

log = logging.getLogger(__name__)
T = TypeVar("T")

# A worker holds a delivery this long: past the endpoint's time to answer, so that a lease
# runs out only when its worker died, and another then sends the delivery again.
LEASE = webhooks.TIMEOUT * 3
USER_AGENT = "Ten99Policy-Webhooks/2.0"
CONCURRENCY = 256  # attempts in flight per worker: each a coroutine waiting on a receiver
# Attempts in flight for one account at most, so that one account's receivers that are slow or
# never answer hold a few of the slots, never those of other accounts' deliveries.
ACCOUNT_SHARE = 64
# While attempts are in flight, how often to look for new due deliveries.
POLL_SECONDS = 0.2
ENDED_GATHER_SECONDS = 0.01  # after an attempt ends, for others to end and be recorded with it
EVENTS_GATHER_SECONDS = 0.05  # after events are published here, for others to be routed with them
HURRIED_GAP_SECONDS = 0.02  # at least between the rounds advancing clocks ask for


def body_of(event: dict, environment: str, settings: Settings) -> bytes:
    """The delivered JSON: the event as the API shows it, links on TEN99_PUBLIC_URL."""
    live = environment == Environment.PRODUCTION
    return orjson.dumps(representation.event(event, settings.public_url or "", live=live))


def _settle(future: Future, task: asyncio.Task) -> None:
    """Pass what `task` ended with on to `future`, which another thread waits on."""
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's, as uvicorn runs, where it is installed (pyproject.toml: not on Windows)."""
    try:
        import uvloop
    except ImportError:  # asyncio's own elsewhere
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class Sender:
    """POSTs deliveries for any number of threads, keeping connections to endpoints alive
    between them, each exchange within `timeout` seconds in all: aiohttp on a loop of its own
    (a tenth of the CPU per POST of httpx's asynchronous client, measured on this machine)."""

    def __init__(self, timeout: float = webhooks.TIMEOUT) -> None:
        self.timeout = timeout
        self._loop = _new_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ten99-webhook-sender", daemon=True
        )
        self._thread.start()
        self._session = self._run(self._open())
        # Proxies from the environment, as curl takes them: read once, not for every POST.
        self._proxies = urllib.request.getproxies_environment()
        self._proxy_of: dict[tuple[str, str], str | None] = {}

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _open(self) -> aiohttp.ClientSession:
        # A session belongs to the loop it is made on.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY),
            # No timers of aiohttp's own (a tenth of a POST's time): `exchange` bounds it all.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None),
            # No cookies kept or sent: receivers are told apart by their URL alone.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # no answer is read
        )

    def _proxy(self, url: URL) -> str | None:
        """The proxy a POST to `url` goes through, if any (`http_proxy`, `no_proxy`, …)."""
        key = (url.scheme, url.host or "")
        if key not in self._proxy_of:
            bypass = urllib.request.proxy_bypass(key[1])
            self._proxy_of[key] = None if bypass else self._proxies.get(url.scheme)
        return self._proxy_of[key]

    def submit_all(self, works: list[Coroutine[Any, Any, T]]) -> list[Future[T]]:
        """Run each of `works` on the sender's loop, woken once for all of them."""
        futures: list[Future[T]] = [Future() for _ in works]

        def start() -> None:
            for work, future in zip(works, futures, strict=True):
                self._loop.create_task(work).add_done_callback(partial(_settle, future))

        self._loop.call_soon_threadsafe(start)
        return futures

    async def exchange(
        self, url: URL, body: bytes, headers: dict, server_hostname: str | None
    ) -> int:
        """The answer's status; TimeoutError once the exchange has taken `timeout` seconds."""
        async with asyncio.timeout(self.timeout):
            # Closed unread: the answer's status is all that counts.
            request = self._session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                server_hostname=server_hostname,
                proxy=self._proxy(url),
            )
            async with request as response:
                return response.status

    def close(self) -> None:
        self._run(self._session.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def client(timeout: float = webhooks.TIMEOUT) -> Sender:
    """One sender per worker, shared by its delivery threads."""
    return Sender(timeout)


def deliver_due(
    database: Database,
    settings: Settings,
    client: Sender,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    principal: Principal | None = None,
) -> int:
    """Make every attempt that is due now, up to CONCURRENCY at once and ACCOUNT_SHARE of one
    account's (an endpoint that never answers holds its slots for TIMEOUT, not the others'
    deliveries), waiting for them; returns how many were made. Stops claiming once
    `keep_going()` is false. With a `principal`, only its sandbox's deliveries (those a clock
    advanced by `run_due` waits for). The worker's scheduler makes its rounds itself
    (`Deliveries`), without waiting."""
    deliveries = Deliveries(database, settings, client, principal=principal)
    try:
        while keep_going():
            deliveries.step(time.monotonic())
            if not deliveries.wait_for_one(POLL_SECONDS):
                break
    finally:
        deliveries.stop()
    return deliveries.made


class Deliveries:
    """Webhook deliveries as one kind of the worker's scheduled work: each `step` is a round
    (the attempts that ended recorded, new events routed, due deliveries claimed: see
    `_round`), its attempts handed to the sender; `due_at` says when the next round is
    worth making. `wake` is called when an attempt ends."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        client: Sender,
        *,
        wake: Callable[[], None] = lambda: None,
        interval: float = POLL_SECONDS,
        principal: Principal | None = None,  # only its sandbox's deliveries
    ):
        self._database, self._settings, self._client = database, settings, client
        self._wake, self._interval, self._principal = wake, interval, principal
        self.made = 0  # attempts started
        self._running: dict[Future[dict], Claim] = {}
        self._first_ended_at: float | None = None
        self._published_at: float | None = None
        self._next_look = 0.0
        self._hurried = False  # an advancing clock waits for a round
        self._last_round = 0.0
        self._round_ended = threading.Condition()
        self._stopping = False

    def due_at(self, now: float) -> float:
        """The monotonic time of the next round: a moment after an attempt ended or events
        were published here (what comes with them joins the round), else the next look."""
        if self._database.events_published.is_set() and self._published_at is None:
            self._published_at = now
        due = self._next_look
        if self._first_ended_at is not None:
            due = min(due, self._first_ended_at + ENDED_GATHER_SECONDS)
        if self._published_at is not None:
            due = min(due, self._published_at + EVENTS_GATHER_SECONDS)
        if self._hurried:
            due = min(due, self._last_round + HURRIED_GAP_SECONDS)
        return due

    def step(self, now: float) -> None:
        try:
            self._round(now)
        finally:
            self._last_round = time.monotonic()
            with self._round_ended:
                self._round_ended.notify_all()

    def make_for(self, principal: Principal, timeout: float) -> None:
        """Have the due deliveries of `principal`'s sandbox made, for its advancing clock: the
        next round comes at once, unless attempts of the sandbox are in flight (their end
        brings it). Returns when a round has ended, or after `timeout`."""
        sandbox = (principal.account_id, principal.environment.value)
        in_flight = [(claim.account_id, claim.environment) for claim in self._running.values()]
        with self._round_ended:
            if self._stopping:
                return
            if sandbox not in in_flight:
                self._hurried = True
                self._wake()
            self._round_ended.wait(timeout)

    def _round(self, now: float) -> None:
        if self._principal is None:  # the events of every sandbox are this round's to route
            self._database.events_published.clear()
        self._published_at = self._first_ended_at = None
        self._hurried = False
        ended = [(claim, f) for f, claim in self._running.items() if f.done()]
        for _claim, future in ended:
            del self._running[future]
        running = list(self._running.values())
        claimed = _round(self._database, self._settings, ended, running, self._principal)
        attempts = [_attempt_one(self._settings, self._client, claim) for claim in claimed]
        for future, claim in zip(self._client.submit_all(attempts), claimed, strict=True):
            self._running[future] = claim
            future.add_done_callback(self._ended)
        self.made += len(claimed)
        # With attempts in flight, deliveries may come due that no slot in use holds back.
        self._next_look = now + (POLL_SECONDS if self._running else self._interval)

    def wait_for_one(self, timeout: float) -> bool:
        """Wait up to `timeout` for an attempt in flight to end (and a moment more, for others
        to end with it); False when none is in flight."""
        if not self._running:
            return False
        done, _ = wait(self._running, timeout=timeout, return_when=FIRST_COMPLETED)
        if done:
            time.sleep(ENDED_GATHER_SECONDS)
        return True

    def _ended(self, _future: Future) -> None:
        if self._first_ended_at is None:
            self._first_ended_at = time.monotonic()
        self._wake()

    def stop(self, deadline: float = math.inf) -> None:
        """What is in flight by `deadline` (time.monotonic()) is recorded; what is not is
        handed back to the next worker (every attempt ends within TIMEOUT anyway)."""
        self._stopping = True
        with self._round_ended:
            self._round_ended.notify_all()  # an advance waiting for a round waits no more
        left = None if deadline == math.inf else max(0.0, deadline - time.monotonic())
        ended, unfinished = wait(self._running, timeout=left)
        outcomes = _outcomes(self._settings, [(self._running[f], f) for f in ended])
        with self._database.server_work() as work:
            work.deliveries.record(outcomes)
            work.deliveries.hand_back([self._running[f] for f in unfinished])
        if unfinished:
            log.warning("stopping: %d webhook attempts handed back unfinished", len(unfinished))
        self._running.clear()


def route(database: Database, principal: Principal | None = None) -> int:
    """Give the new events their deliveries, in a transaction of their own."""
    with database.server_work() as work:
        return webhooks.route(work.deliveries, principal)


def _round(
    database: Database,
    settings: Settings,
    ended: list[tuple[Claim, Future[dict]]],
    running: list[Claim],
    principal: Principal | None,
) -> list[Claim]:
    """Record the attempts that `ended`, route new events, and claim as many due deliveries
    as there are free slots, each with its event. What to write is read first, and the
    writes alone take the writers' lock (SQLite's, which requests wait for): record and route
    in one transaction, then lease what is due, then read the events the claims carry."""
    with database.server_work(write=False) as work:
        held, lapsed = work.deliveries.holding(_outcomes(settings, ended))
        new, endpoints = work.deliveries.unrouted(webhooks.ROUTE_BATCH, ENABLED, principal)
    for claim in lapsed:
        log.warning("delivery %s: the lease ran out before its attempt was recorded", claim.seq)
    if held or new:  # the writers' lock, only for something to write
        with database.server_work() as work:
            work.deliveries.record(held)
            work.deliveries.route(new, webhooks.deliveries_for(new, endpoints))
    free = CONCURRENCY - len(running)
    if free <= 0:
        return []
    with database.server_work(write=False) as work:
        due = work.deliveries.due(
            work.wall(),
            limit=free,
            share=ACCOUNT_SHARE,
            in_flight=Counter(claim.account_id for claim in running),
            principal=principal,
        )
    if not due:
        return []
    with database.server_work() as work:
        leased = work.deliveries.lease(due, work.wall(), LEASE)
    with database.server_work(write=False) as work:
        return work.deliveries.claims(leased)


async def _attempt_one(settings: Settings, client: Sender, claim: Claim) -> dict:
    logs.bind(account=claim.account_id, environment=claim.environment)
    try:
        body = body_of(claim.event, claim.environment, settings)
        attempt = await _attempt(client, claim, body, settings.webhook_targets, clock.now())
        _log(claim, attempt)
        return attempt
    finally:
        logs.unbind()


def _outcomes(settings: Settings, finished: list[tuple[Claim, Future[dict]]]) -> list[Outcome]:
    """The attempts made, each with its outcome: delivered, or when to try again, or failed
    for good. One that failed unexpectedly has none: its lease runs out, and the delivery is
    tried again."""
    outcomes = []
    for claim, future in finished:
        error = future.exception()
        if error is not None:
            log.error("delivery %s failed unexpectedly", claim.seq, exc_info=error)
            metrics.delivery_attempted("crashed")
            continue
        attempt = future.result()
        if attempt["error"] is None:
            status, retry_at = DELIVERED, None
        else:
            tried = len(claim.attempts) + 1
            first_delay = settings.webhook_retry_seconds
            retry_at = webhooks.next_attempt(claim.created, tried, claim.now, first_delay)
            status = PENDING if retry_at is not None else FAILED
        metrics.delivery_attempted("retrying" if status == PENDING else status)
        outcomes.append(Outcome(claim, attempt, status, retry_at))
    return outcomes


def _log(claim: Claim, attempt: dict) -> None:
    target = urlsplit(claim.url)
    details = {
        "delivery": claim.delivery_id,
        "event": claim.event_id,
        "attempt": len(claim.attempts) + 1,
        # Without its query string or user info, which may hold a receiver's own secret.
        "url": f"{target.scheme}://{target.netloc.rpartition('@')[2]}{target.path}",
        "status": attempt["status_code"],
        "duration_ms": attempt["duration_ms"],
        "error": attempt["error"],
    }
    if attempt["error"] is None:
        log.info("webhook delivered", extra=details)
    else:
        log.warning("webhook delivery attempt failed", extra=details)


def _names_an_address(url: str) -> bool:
    try:
        ipaddress.ip_address(URL(url).host or "")
    except ValueError:
        return False
    return True


def _pinned(url: str, targets: TargetPolicy) -> tuple[URL, dict[str, str], str | None]:
    """The URL to POST to, with its host resolved once and checked, and the `Host` header and
    TLS server name of the host as written: the connection goes to the address that was
    checked, whatever the name resolves to a moment later."""
    written = URL(url)
    if targets is TargetPolicy.ALLOW or written.host is None:
        return written, {}, None
    port = written.port or (443 if written.scheme == "https" else 80)
    address = egress.resolve(written.host, port, targets)
    server_hostname = written.host if written.scheme == "https" else None
    # The host (bracketed if IPv6) and port as written, without any userinfo.
    host_header = {"Host": urlsplit(url).netloc.rpartition("@")[2]}
    return written.with_host(address), host_header, server_hostname


async def _attempt(
    client: Sender, claim: Claim, body: bytes, targets: TargetPolicy, wall: int
) -> dict:
    """POST the event once; the attempt as the API lists it, made at the time of the delivery's
    sandbox. Signed at `wall`: a receiver checks the signature's age on its own clock."""
    secrets = webhooks.signing_secrets(
        claim.secret, claim.previous_secret, claim.previous_secret_expires, wall
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Ten99Policy-Signature": webhooks.signature(secrets, wall, body),
        # Standard Webhooks: the event's id names the message on every retry.
        "webhook-id": claim.event_id,
        "webhook-timestamp": str(wall),
        "webhook-signature": webhooks.standard_signature(secrets, claim.event_id, wall, body),
    }
    started = time.monotonic()
    status_code, error = None, None
    try:
        if targets is TargetPolicy.ALLOW or _names_an_address(claim.url):
            url, host, server_hostname = _pinned(claim.url, targets)
        else:  # the name is resolved (and checked) off the loop: a lookup may take seconds
            url, host, server_hostname = await asyncio.to_thread(_pinned, claim.url, targets)
        status_code = await client.exchange(url, body, {**headers, **host}, server_hostname)
        if not 200 <= status_code < 300:
            error = f"the endpoint answered {status_code}"
    except egress.TargetRefused as refused:
        error = f"not sent: {refused} (TEN99_WEBHOOK_TARGETS)"
    # Before OSError, the base of TimeoutError and of aiohttp's connection errors.
    except TimeoutError:
        error = f"no answer within {client.timeout:g} seconds"
    except aiohttp.ClientConnectorDNSError as unresolved:
        error = f"not sent: {claim.url} does not resolve: {unresolved.os_error}"[:500]
    except aiohttp.ClientConnectorError as unreached:
        error = f"no connection: {unreached.os_error}"[:500]
    except aiohttp.ClientError as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    except OSError as unresolved:  # the name does not resolve
        error = f"not sent: {claim.url} does not resolve: {unresolved}"[:500]
    return {
        "attempted_at": claim.now,
        "status_code": status_code,
        "error": error,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
