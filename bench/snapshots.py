"""How long a restore of a snapshot takes: a sandbox of OBJECTS objects (contractors and the
events of their creation), saved, then restored RESTORES times in a row, each timed by the
client, with nothing else running."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from bench.scenarios import CONTRACTOR, Api

OBJECTS = 1000
RESTORES = 10


@dataclass(frozen=True)
class RestoreTiming:
    implementation: str
    objects: int
    size: int  # bytes, compressed
    median_ms: float
    slowest_ms: float


def time_restores(api: Api, implementation: str) -> RestoreTiming:
    api.call("POST", "/sandbox/reset")
    for _ in range(OBJECTS // 2):  # each with its contractor.created event
        api.create("/contractors", CONTRACTOR)
    snapshot = api.create("/sandbox/snapshots", {"name": f"{OBJECTS} objects"})
    restore = f"/sandbox/snapshots/{snapshot['id']}/restore"
    took = []
    for _ in range(RESTORES):
        started = time.perf_counter()
        api.call("POST", restore)
        took.append((time.perf_counter() - started) * 1000)
    return RestoreTiming(
        implementation, snapshot["objects"], snapshot["size"], statistics.median(took), max(took)
    )


def describe(timing: RestoreTiming) -> str:
    return (
        f"{timing.implementation}: restoring a snapshot of {timing.objects:,} objects "
        f"({timing.size / 1024:.0f} KiB) took {timing.median_ms:.0f} ms (median of {RESTORES} in "
        f"a row; the slowest {timing.slowest_ms:.0f} ms)"
    )
