"""CPU time and resident memory of a server's whole process tree, from /proc.

A server may be several processes (uvicorn's workers, npx's node), so every measure covers the
root and all its descendants. CPU adds each process's reaped children (cutime, cstime) too: a
worker that exits inside the window still counts once, in its parent.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/<pid>/stat that matter here."""

    pid: int
    parent: int
    cpu_ticks: int  # utime + stime + cutime + cstime
    rss_pages: int


def parse_stat(text: str) -> Stat:
    """Parse /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold spaces
    and parentheses itself, so the fields are counted from the last ')'."""
    pid, _, rest = text.partition(" (")
    fields = rest[rest.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); field N of proc(5) is fields[N - 3].
    utime, stime, cutime, cstime = (int(fields[n - 3]) for n in (14, 15, 16, 17))
    return Stat(
        pid=int(pid),
        parent=int(fields[4 - 3]),
        cpu_ticks=utime + stime + cutime + cstime,
        rss_pages=int(fields[24 - 3]),
    )


def all_stats() -> dict[int, Stat]:
    stats = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stats[int(entry.name)] = parse_stat((entry / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we looked
    return stats


def tree(root: int, stats: dict[int, Stat]) -> list[Stat]:
    """The root and its descendants, among the given processes."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.parent, []).append(stat.pid)
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid in stats:
            found.append(stats[pid])
            pending.extend(children.get(pid, []))
    return found


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    rss_mib: float
    processes: int


def usage(root: int) -> Usage:
    """CPU time so far and resident memory now, of the tree under `root`. RSS is summed over the
    processes, so pages they share count once per process."""
    processes = tree(root, all_stats())
    return Usage(
        cpu_seconds=sum(stat.cpu_ticks for stat in processes) / TICKS_PER_SECOND,
        rss_mib=sum(stat.rss_pages for stat in processes) * PAGE_BYTES / MIB,
        processes=len(processes),
    )


@dataclass(frozen=True)
class Settled:
    usage: Usage
    seconds: float
    idle: bool  # False: still busy when `limit` ran out


def wait_until_idle(
    root: int, *, interval: float = 0.5, idle_share: float = 0.1, limit: float = 180
) -> Settled:
    """Wait until the tree uses less than `idle_share` of one core over an interval: the work
    that requests queued in the background (certificates) is done then."""
    started = time.monotonic()
    last = usage(root)
    while time.monotonic() - started < limit:
        time.sleep(interval)
        now = usage(root)
        if now.cpu_seconds - last.cpu_seconds < idle_share * interval:
            return Settled(now, time.monotonic() - started, idle=True)
        last = now
    return Settled(last, time.monotonic() - started, idle=False)
