"""Faults on purpose: a sandbox request may ask, with the `Ten99Policy-Test-Fault` header, to
fail in one of the ways a network and a server fail, so that a platform can test how its
client copes (server/middleware/faults.py makes them)."""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

HEADER = "Ten99Policy-Test-Fault"
MAX_LATENCY_MS = 10_000
_LATENCY = re.compile(r"latency=(\d{1,5})")


class FaultKind(Enum):
    # The change commits, then the connection closes with no answer.
    DISCONNECT_AFTER_COMMIT = "disconnect_after_commit"
    # A 500 that says to retry, and nothing of the request kept.
    ERROR_BEFORE_COMMIT = "error_before_commit"
    # The request waits this long first.
    LATENCY = "latency"


class Fault(NamedTuple):
    kind: FaultKind
    latency_ms: int = 0


class FaultBeforeCommit(Exception):
    """Raised in a unit of work asked to fail before it commits: it rolls back."""


def parse(value: str) -> Fault:
    """The fault a header asks for; ValueError if it names none."""
    latency = _LATENCY.fullmatch(value)
    if latency is not None:
        milliseconds = int(latency.group(1))
        if milliseconds > MAX_LATENCY_MS:
            raise ValueError(f"latency may be at most {MAX_LATENCY_MS} ms")
        return Fault(FaultKind.LATENCY, milliseconds)
    if value == FaultKind.LATENCY.value:
        raise ValueError("latency takes milliseconds: latency=<ms>")
    return Fault(FaultKind(value))
