"""When a scheduler last went round its loop: /readyz says a process is not ready once its
scheduler has been stuck for STUCK_SECONDS. The scheduler's own process reads it from memory;
`serve`'s server processes, beside a worker process of its own, from a file it touches."""

from __future__ import annotations

import os
import time
from pathlib import Path

# Past this, a scheduler that goes round at least every half second is stuck: every kind of
# work it hands out runs elsewhere (threads, an event loop), and each step is a few statements.
STUCK_SECONDS = 30
TOUCH_EVERY_SECONDS = 1.0
# The file `serve` names for its worker process's heartbeat, read by its server processes.
HEARTBEAT_FILE = "TEN99_SCHEDULER_HEARTBEAT_FILE"


class Heartbeat:
    def __init__(self, path: Path | None = None):
        self._path = path
        self._last = time.monotonic()
        self._touched = 0.0

    def beat(self) -> None:
        self._last = now = time.monotonic()
        if self._path is not None and now - self._touched >= TOUCH_EVERY_SECONDS:
            self._path.touch()
            self._touched = now

    def age(self) -> float:
        return time.monotonic() - self._last


def file_age(path: Path) -> float | None:
    """Seconds since the heartbeat in `path`; None before the first."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def of_environment() -> Path | None:
    named = os.environ.get(HEARTBEAT_FILE)
    return Path(named) if named else None
