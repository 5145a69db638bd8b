"""`python -m bench`: measure every implementation on every scenario, in rounds, and print the
medians as a Markdown table (also build/bench/last.md, and the raw numbers in last.json).

Within a round each implementation is started fresh, set up through its API, loaded with each
scenario in turn (a short warm-up, then the measured window) and stopped before the next one
starts: one server runs at a time, and the rounds interleave them, in the given order and then
the other way round, so that no implementation always runs after the same one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from bench import load, proc, report, snapshots
from bench.implementations import (
    DEFAULT_POSTGRES,
    DEFAULT_REDIS,
    NAMES,
    ROOT,
    Implementation,
    Running,
    all_implementations,
)
from bench.receiver import ANSWERING, Receiver
from bench.scenarios import SCENARIOS, Api, Scenario, SetupFailed, set_up

OUTPUT = ROOT / "build" / "bench"
T = TypeVar("T")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def whole_number(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {minimum}")
        return int(value)

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput, latency, CPU and memory of this server beside Prism's mock "
        "and a bare Starlette app (the ceiling), under wrk on 127.0.0.1.",
    )
    parser.add_argument("--rounds", type=whole_number(1), default=3)
    parser.add_argument(
        "--duration", type=whole_number(1), default=10, help="seconds measured per scenario"
    )
    parser.add_argument(
        "--warmup", type=whole_number(0), default=2, help="seconds of load before each"
    )
    parser.add_argument("--connections", type=whole_number(1), default=16)
    parser.add_argument("--only", metavar="NAME[,NAME]", help="of: " + ", ".join(NAMES))
    parser.add_argument(
        "--scenarios", metavar="NAME[,NAME]", help="of: " + ", ".join(s.key for s in SCENARIOS)
    )
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL admin URL (default: %(default)s)"
    )
    parser.add_argument(
        "--redis", default=DEFAULT_REDIS, help="Redis for postgresql-2w (default: %(default)s)"
    )
    return parser.parse_args(argv)


def chosen(names: str | None, known: Sequence[str], what: str) -> list[str]:
    """The comma-separated `names`, checked, in the order of `known`; all of them when None."""
    if names is None:
        return list(known)
    wanted = {name.strip() for name in names.split(",") if name.strip()}
    unknown = sorted(wanted - set(known))
    if unknown or not wanted:
        given = ", ".join(unknown) or repr(names)
        raise ValueError(f"unknown {what} {given} (known: {', '.join(known)})")
    return [name for name in known if name in wanted]


def settle(server: Running) -> None:
    """Let the server finish what earlier load queued, so that no window pays for another."""
    proc.wait_until_idle(server.pid)


def measure(
    server: Running,
    request: load.Request,
    args: argparse.Namespace,
    *,
    round_number: int,
    implementation: str,
    scenario: str,
    receiver: Receiver | None = None,
) -> report.Measurement:
    """Warm up, then one measured window: CPU is read around it, RSS at its end, and CPU again
    once the server idles, for the background work the window's requests queued. With an
    answering `receiver`, when its last delivery arrived, after the window."""
    if args.warmup:
        load.run(request, seconds=args.warmup, connections=args.connections)
        settle(server)
    before = proc.usage(server.pid)
    result = load.run(request, seconds=args.duration, connections=args.connections)
    window_ended = time.monotonic()
    after = proc.usage(server.pid)
    idle = proc.wait_until_idle(server.pid)
    delivered_after = None
    if receiver is not None and receiver.kind == ANSWERING and receiver.arrivals:
        delivered_after = max(0.0, receiver.arrivals[-1] - window_ended)
    statements = round_trips = None
    work = load.database_work(request) if server.database else None
    if work is not None:
        statements = work.statements
        if server.database == "postgresql":
            round_trips = work.statements + 2 * work.transactions
    return report.Measurement(
        round=round_number,
        implementation=implementation,
        scenario=scenario,
        requests=result.requests,
        non_2xx=result.non_2xx,
        socket_errors=result.socket_errors,
        seconds=result.seconds,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_seconds=after.cpu_seconds - before.cpu_seconds,
        rss_mib=after.rss_mib,
        processes=after.processes,
        cpu_after_seconds=idle.usage.cpu_seconds - after.cpu_seconds,
        settle_seconds=idle.seconds,
        settled=idle.idle,
        delivered_after_seconds=delivered_after,
        statements=statements,
        round_trips=round_trips,
    )


def describe(measurement: report.Measurement) -> str:
    line = (
        f"  {measurement.scenario}: {measurement.ok_per_second:.1f} req/s, "
        f"p50 {measurement.p50_ms:.1f} ms, p99 {measurement.p99_ms:.1f} ms, "
        f"{report.number(measurement.cpu_us_per_request, 0)} CPU µs/req, "
        f"{measurement.rss_mib:.0f} MiB in {measurement.processes} processes"
    )
    if measurement.cpu_after_share >= report.NOTABLE_AFTER_SHARE:
        line += f" ({measurement.cpu_after_share:.0%} of the CPU after the window)"
    if measurement.flagged:
        line += f" ! {measurement.non_2xx} non-2xx, {measurement.socket_errors} socket errors"
    return line


def run_implementation(
    implementation: Implementation,
    scenarios: Sequence[Scenario],
    round_number: int,
    args: argparse.Namespace,
) -> tuple[list[report.Measurement], list[snapshots.RestoreTiming]]:
    """Start it, set it up, run every scenario on it, time its restores, stop it."""
    measurements, restores = [], []
    with implementation.running() as server:
        api = Api(server.base_url, server.api_key)
        fixtures = set_up(api)
        settle(server)
        for scenario in scenarios:
            if scenario.webhook and not implementation.delivers_webhooks:
                continue
            with subscribed(api, scenario.webhook) as receiver:
                measurement = measure(
                    server,
                    scenario.request(api, fixtures),
                    args,
                    round_number=round_number,
                    implementation=implementation.name,
                    scenario=scenario.title,
                    receiver=receiver,
                )
            progress(describe(measurement))
            measurements.append(measurement)
        if implementation.restores_snapshots:
            settle(server)
            restores.append(snapshots.time_restores(api, implementation.name))
            progress("  " + snapshots.describe(restores[-1]))
    return measurements, restores


@contextmanager
def subscribed(api: Api, kind: str | None) -> Iterator[Receiver | None]:
    """With `kind`, a receiver of that kind and an endpoint for every event at it, deleted on
    the way out (so that the scenarios after it deliver nothing)."""
    if kind is None:
        yield None
        return
    with Receiver(kind) as receiver:
        endpoint = api.create("/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]})
        try:
            yield receiver
        finally:
            api.call("DELETE", f"/webhook_endpoints/{endpoint['id']}")


def in_turn(implementations: Sequence[T], round_number: int) -> list[T]:
    """The order of a round: as given in odd rounds, reversed in even ones. Each of two
    implementations compared with each other (sqlite and sqlite-unlogged) then runs first as
    often as the other: a machine that slows or speeds up over a round favours neither."""
    return list(implementations if round_number % 2 else reversed(implementations))


def run_rounds(
    implementations: Sequence[Implementation],
    scenarios: Sequence[Scenario],
    args: argparse.Namespace,
) -> tuple[list[report.Measurement], list[str]]:
    """Every round runs every implementation in turn; one that fails is noted and the run goes
    on (the server may be half-way through an edit). Returns the measurements, and notes: the
    failures and the restores' timings."""
    measurements, failures, restores = [], [], []
    for round_number in range(1, args.rounds + 1):
        for implementation in in_turn(implementations, round_number):
            progress(f"[round {round_number}/{args.rounds}] {implementation.name}")
            try:
                measured, restored = run_implementation(
                    implementation, scenarios, round_number, args
                )
                measurements += measured
                restores += restored
            except (RuntimeError, SetupFailed, OSError) as error:
                failures.append(f"{implementation.name} failed in round {round_number}: {error}")
                progress(f"  FAILED: {error}")
    return measurements, failures + [snapshots.describe(timing) for timing in restores]


def raw_numbers(
    args: argparse.Namespace,
    measurements: Sequence[report.Measurement],
    rows: Sequence[report.Row],
    remarks: Sequence[str],
) -> dict[str, Any]:
    return {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "rounds": args.rounds,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "connections": args.connections,
            "wrk_threads": min(load.MAX_THREADS, args.connections),
        },
        "cpus": os.cpu_count(),
        "measurements": [
            dataclasses.asdict(m)
            | {"ok_per_second": m.ok_per_second, "cpu_us_per_request": m.cpu_us_per_request}
            for m in measurements
        ],
        "rows": [dataclasses.asdict(row) for row in rows],
        "remarks": list(remarks),
    }


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that every server started is stopped on the way out."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if load.wrk_path() is None:
        print(f"python -m bench: {load.INSTALL_HINT}", file=sys.stderr)
        return 2
    interrupt_on_sigterm()
    candidates = all_implementations(args.postgres, args.redis)
    try:
        names = chosen(args.only, [i.name for i in candidates], "implementation")
        keys = chosen(args.scenarios, [s.key for s in SCENARIOS], "scenario")
    except ValueError as error:
        print(f"python -m bench: {error}", file=sys.stderr)
        return 2
    scenarios = [s for s in SCENARIOS if s.key in keys]
    implementations, remarks = [], []
    for implementation in (i for i in candidates if i.name in names):
        reason = implementation.unavailable()
        if reason:
            remarks.append(f"{implementation.name} not measured: {reason}")
            progress(f"skipping {implementation.name}: {reason}")
            continue
        implementations.append(implementation)
        if implementation.note:
            remarks.append(implementation.note)
    try:
        measurements, notes = run_rounds(implementations, scenarios, args)
    except KeyboardInterrupt:
        progress("interrupted: every server started has been stopped; no report written")
        return 130
    remarks += notes
    if not measurements:
        progress("nothing was measured:\n" + "\n".join(f"- {remark}" for remark in remarks))
        return 1
    without_endpoint = next(s.title for s in SCENARIOS if s.key == "create")
    remarks = [
        *report.webhook_notes(measurements, without_endpoint),
        *report.request_log_notes(measurements, "sqlite", "sqlite-unlogged"),
        *report.request_log_notes(measurements, "postgresql", "postgresql-unlogged"),
        *remarks,
    ]
    rows = report.summarize(measurements, names, [s.title for s in scenarios])
    text = report.render(rows, measurements, remarks)
    print(text)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "last.md").write_text(text)
    raw = raw_numbers(args, measurements, rows, remarks)
    (OUTPUT / "last.json").write_text(json.dumps(raw, indent=2) + "\n")
    progress(f"wrote {OUTPUT / 'last.md'} and {OUTPUT / 'last.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
