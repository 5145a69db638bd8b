"""`ten99-server webhooks check URL --secret whsec_…`: a check of a platform's webhook receiver.
It is sent deliveries signed as this server signs them (both signature schemes): a valid event,
the same event again, and three a receiver must refuse (a bad signature, a stale timestamp, a
body altered after it was signed); the verdict says which it accepted and refused, and how fast.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from server.core.ids import new_id
from server.domain import webhooks

TIMEOUT_SECONDS = 10
STALE_SECONDS = 600  # past the five minutes a receiver may allow


@dataclass(frozen=True)
class Probe:
    name: str
    should_accept: bool
    # (event id, timestamp, body) -> (body sent, headers)
    build: Callable[[str, int, bytes], tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    status: int | None  # None: no answer
    seconds: float
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def passed(self) -> bool:
        return (
            self.status is not None
            and self.accepted == self.probe.should_accept
            and self.seconds <= TIMEOUT_SECONDS
        )


def _signed(secret: str) -> Callable[[str, int, bytes], tuple[bytes, dict[str, str]]]:
    def build(event_id: str, timestamp: int, body: bytes) -> tuple[bytes, dict[str, str]]:
        return body, headers(secret, event_id, timestamp, body)

    return build


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """A delivery's headers, as the worker sends them."""
    return {
        "Content-Type": "application/json",
        "Ten99Policy-Signature": webhooks.signature([secret], timestamp, body),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.standard_signature([secret], event_id, timestamp, body),
    }


def probes(secret: str) -> list[Probe]:
    signed = _signed(secret)
    other = _signed(webhooks.new_secret())

    def stale(event_id: str, timestamp: int, body: bytes) -> tuple[bytes, dict[str, str]]:
        return signed(event_id, timestamp - STALE_SECONDS, body)

    def altered(event_id: str, timestamp: int, body: bytes) -> tuple[bytes, dict[str, str]]:
        _, sent_headers = signed(event_id, timestamp, body)
        return body.replace(b'"livemode":false', b'"livemode":true'), sent_headers

    return [
        Probe("a valid event", True, signed),
        Probe("the same event again", True, signed),
        Probe("a bad signature", False, other),
        Probe("a stale timestamp", False, stale),
        Probe("a body altered after signing", False, altered),
    ]


def sample_event(event_id: str, at: int) -> bytes:
    """An event as deliveries carry it: a contractor's creation, in the sandbox."""
    event = {
        "id": event_id,
        "object": "event",
        "livemode": False,
        "type": "contractor.created",
        "created": at,
        "data": {
            "object": {
                "id": new_id("cn"),
                "object": "contractor",
                "livemode": False,
                "created": at,
                "first_name": "Joe",
                "last_name": "Parker",
                "email": "parker@gmail.com",
            }
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def send(url: str, body: bytes, sent_headers: dict[str, str]) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=sent_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return answer.status, None
    except urllib.error.HTTPError as answer:
        return answer.code, None
    except (urllib.error.URLError, OSError) as failed:
        return None, str(getattr(failed, "reason", failed))


def check(url: str, secret: str) -> list[Outcome]:
    """Send every probe, in order, for one event; what the receiver answered to each."""
    event_id = new_id("evt")
    now = int(time.time())
    body = sample_event(event_id, now)
    outcomes = []
    for probe in probes(secret):
        sent_body, sent_headers = probe.build(event_id, now, body)
        started = time.perf_counter()
        status, error = send(url, sent_body, sent_headers)
        outcomes.append(Outcome(probe, status, time.perf_counter() - started, error))
    return outcomes


def report(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        expected = "accept" if outcome.probe.should_accept else "refuse"
        if outcome.status is None:
            answer = f"no answer ({outcome.error})"
        else:
            answer = f"{'accepted' if outcome.accepted else 'refused'} ({outcome.status})"
        verdict = "ok" if outcome.passed else "FAILED"
        milliseconds = round(outcome.seconds * 1000)
        lines.append(
            f"{verdict:6} {outcome.probe.name}: {answer} in {milliseconds} ms (should {expected})"
        )
    return lines
