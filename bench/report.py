"""The numbers of a run, reduced to one Markdown table: medians over rounds, and ratios to Prism
and to the ceiling on the same database computed within each round before taking their median
(so that a slow round of the machine moves both sides of a ratio together). Pure: no I/O, no
clocks."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

PRISM = "prism"
CEILING = "ceiling"
CEILING_POSTGRESQL = "ceiling-postgresql"
MISSING = "n/a"


@dataclass(frozen=True)
class Measurement:
    """One measured window: an implementation, a scenario, a round."""

    round: int
    implementation: str
    scenario: str
    requests: int  # responses completed, whatever their status
    non_2xx: int  # of those, responses outside 2xx and 3xx
    socket_errors: int  # connect, read, write errors and timeouts: no response at all
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # user + system of the server's whole process tree, in the window
    rss_mib: float  # the server's whole process tree, at the end of the window
    processes: int = 1  # in that tree
    # CPU after the window until the server idled: background work the requests queued
    # (certificates), which a window alone would leave out.
    cpu_after_seconds: float = 0.0
    settle_seconds: float = 0.0
    settled: bool = True  # False: still busy when the bench stopped waiting
    # With an answering webhook endpoint: when its last delivery arrived, after the window.
    delivered_after_seconds: float | None = None
    # This server's database work per request, as it counts it; round trips only over a network
    # (PostgreSQL: each statement, and each transaction's BEGIN and COMMIT).
    statements: float | None = None
    round_trips: float | None = None

    @property
    def ok_per_second(self) -> float:
        """Throughput counts only successful responses: an error is not work done."""
        return (self.requests - self.non_2xx) / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        """All the CPU the requests cost, in the window and after it."""
        total = self.cpu_seconds + self.cpu_after_seconds
        return total * 1e6 / self.requests if self.requests else None

    @property
    def cpu_after_share(self) -> float:
        total = self.cpu_seconds + self.cpu_after_seconds
        return self.cpu_after_seconds / total if total > 0 else 0.0

    @property
    def flagged(self) -> bool:
        return self.non_2xx > 0 or self.socket_errors > 0


@dataclass(frozen=True)
class Row:
    """The medians over rounds of one implementation and one scenario."""

    implementation: str
    scenario: str
    rounds: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float | None
    rss_mib: float
    per_second_vs_prism: float | None
    per_second_vs_ceiling: float | None
    cpu_vs_ceiling: float | None
    flagged: bool
    statements: float | None = None
    round_trips: float | None = None


def median(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def round_ratios(
    measurements: Sequence[Measurement],
    reference: str,
    metric: Callable[[Measurement], float | None],
) -> dict[tuple[str, str, int], float | None]:
    """metric(m) / metric(reference's m) for every measurement whose round also measured the
    reference on the same scenario; keyed by (implementation, scenario, round)."""
    references = {
        (m.scenario, m.round): metric(m) for m in measurements if m.implementation == reference
    }
    return {
        (m.implementation, m.scenario, m.round): _ratio(
            metric(m), references.get((m.scenario, m.round))
        )
        for m in measurements
    }


def ceiling_of(implementation: str) -> str:
    """The ceiling a row is measured against: the one on its own database."""
    on_postgresql = implementation.startswith("postgresql") or implementation == CEILING_POSTGRESQL
    return CEILING_POSTGRESQL if on_postgresql else CEILING


def summarize(
    measurements: Sequence[Measurement],
    implementations: Sequence[str],
    scenarios: Sequence[str],
) -> list[Row]:
    """One row per (implementation, scenario) that was measured, in the order given."""
    vs_prism = round_ratios(measurements, PRISM, lambda m: m.ok_per_second)
    vs_ceiling, cpu_vs_ceiling = {}, {}
    for ceiling in (CEILING, CEILING_POSTGRESQL):
        vs_ceiling[ceiling] = round_ratios(measurements, ceiling, lambda m: m.ok_per_second)
        cpu_vs_ceiling[ceiling] = round_ratios(
            measurements, ceiling, lambda m: m.cpu_us_per_request
        )
    rows = []
    for implementation in implementations:
        for scenario in scenarios:
            window = [
                m
                for m in measurements
                if m.implementation == implementation and m.scenario == scenario
            ]
            if not window:
                continue
            keys = [(implementation, scenario, m.round) for m in window]
            rows.append(
                Row(
                    implementation=implementation,
                    scenario=scenario,
                    rounds=len(window),
                    per_second=statistics.median(m.ok_per_second for m in window),
                    p50_ms=statistics.median(m.p50_ms for m in window),
                    p99_ms=statistics.median(m.p99_ms for m in window),
                    cpu_us_per_request=median(m.cpu_us_per_request for m in window),
                    rss_mib=statistics.median(m.rss_mib for m in window),
                    per_second_vs_prism=median(vs_prism[key] for key in keys),
                    per_second_vs_ceiling=median(
                        vs_ceiling[ceiling_of(implementation)][key] for key in keys
                    ),
                    cpu_vs_ceiling=median(
                        cpu_vs_ceiling[ceiling_of(implementation)][key] for key in keys
                    ),
                    flagged=any(m.flagged for m in window),
                    statements=median(m.statements for m in window),
                    round_trips=median(m.round_trips for m in window),
                )
            )
    return rows


def error_notes(measurements: Iterable[Measurement]) -> list[str]:
    """One line per window that had failed requests: what the `!` in the table stands for."""
    return [
        f"{m.implementation}, {m.scenario}, round {m.round}: {m.non_2xx} of {m.requests} "
        f"responses not 2xx/3xx, {m.socket_errors} socket errors"
        for m in measurements
        if m.flagged
    ]


# Below this share of CPU spent after the window, the background work is not worth a note.
NOTABLE_AFTER_SHARE = 0.05


def background_notes(measurements: Sequence[Measurement]) -> list[str]:
    """Where much of the CPU came after the window, say so (the load saw none of that delay);
    and where the server was still busy when the bench stopped waiting, that CPU is missing."""
    notes = []
    for implementation, scenario in dict.fromkeys(
        (m.implementation, m.scenario) for m in measurements
    ):
        window = [
            m for m in measurements if (m.implementation, m.scenario) == (implementation, scenario)
        ]
        share = statistics.median(m.cpu_after_share for m in window)
        if share >= NOTABLE_AFTER_SHARE:
            settle = statistics.median(m.settle_seconds for m in window)
            notes.append(
                f"{implementation}, {scenario}: {share:.0%} of the CPU came after the window, "
                f"on work the requests had queued (the server idled {settle:.0f} s later)"
            )
        unsettled = [m.round for m in window if not m.settled]
        if unsettled:
            notes.append(
                f"{implementation}, {scenario}: still busy when the bench stopped waiting "
                f"(round {', '.join(map(str, unsettled))}); CPU after that is not counted"
            )
    return notes


def webhook_notes(measurements: Sequence[Measurement], without: str) -> list[str]:
    """For each scenario with a webhook endpoint (one whose title extends `without`'s): its
    rate beside the same server's without one, in the same rounds, and when the deliveries of
    its window were all made."""
    plain = {
        (m.implementation, m.round): m.ok_per_second for m in measurements if m.scenario == without
    }
    notes = []
    for implementation, scenario in dict.fromkeys(
        (m.implementation, m.scenario)
        for m in measurements
        if m.scenario != without and m.scenario.startswith(without)
    ):
        window = [
            m for m in measurements if (m.implementation, m.scenario) == (implementation, scenario)
        ]
        ratio = median(
            _ratio(m.ok_per_second, plain.get((implementation, m.round))) for m in window
        )
        note = f"{implementation}, {scenario}: {number(ratio, 2)} times the rate without one"
        after = median(m.delivered_after_seconds for m in window)
        if after is not None:
            note += f"; the window's last delivery arrived {after:.1f} s after it ended"
        notes.append(note)
    return notes


def request_log_notes(measurements: Sequence[Measurement], logged: str, unlogged: str) -> list[str]:
    """Each scenario's rate on `logged` beside `unlogged`'s (the same server with the request
    log off), in the same rounds: what the log costs; with rounds, the lowest and highest of the
    rounds' ratios (a cost shows in each), and how much `unlogged`'s own rate varied from round
    to round (the noise a cost hides in)."""
    without = {
        (m.scenario, m.round): m.ok_per_second for m in measurements if m.implementation == unlogged
    }
    notes = []
    for scenario in dict.fromkeys(m.scenario for m in measurements if m.implementation == logged):
        ratios = [
            ratio
            for m in measurements
            if (m.implementation, m.scenario) == (logged, scenario)
            and (ratio := _ratio(m.ok_per_second, without.get((scenario, m.round)))) is not None
        ]
        if not ratios:
            continue
        note = f"{logged}, {scenario}: {number(median(ratios), 2)} times the rate of {unlogged}"
        rates = [rate for (named, _), rate in without.items() if named == scenario]
        if len(ratios) > 1 and median(rates):
            spread = (max(rates) - min(rates)) / median(rates)
            note += (
                f" ({number(min(ratios), 2)} to {number(max(ratios), 2)} round by round;"
                f" {unlogged}'s own rounds were {spread:.0%} apart)"
            )
        notes.append(note)
    return notes


def number(value: float | None, digits: int) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def throughput(value: float) -> str:
    return number(value, 0 if value >= 100 else 1)


def milliseconds(value: float) -> str:
    return number(value, 1 if value >= 10 else 2)


COLUMNS = (
    "implementation",
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "RSS MiB",
    "req/s vs Prism",
    "req/s vs ceiling",
    "CPU vs ceiling",
    "statements/req",
    "round trips/req",
)
# The first two columns are names, the rest numbers.
TEXT_COLUMNS = 2


def cells(row: Row) -> list[str]:
    return [
        row.implementation,
        row.scenario,
        throughput(row.per_second) + (" !" if row.flagged else ""),
        milliseconds(row.p50_ms),
        milliseconds(row.p99_ms),
        number(row.cpu_us_per_request, 0),
        number(row.rss_mib, 0),
        number(row.per_second_vs_prism, 2),
        number(row.per_second_vs_ceiling, 2),
        number(row.cpu_vs_ceiling, 2),
        number(row.statements, 0),
        number(row.round_trips, 0),
    ]


def markdown_table(rows: Sequence[Row]) -> str:
    """A Markdown table, padded so that it also reads as plain text; numbers right-aligned."""
    body = [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in [list(COLUMNS), *body]) for i in range(len(COLUMNS))]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.ljust(width) if i < TEXT_COLUMNS else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * width if i < TEXT_COLUMNS else "-" * (width - 1) + ":"
        for i, width in enumerate(widths)
    ]
    return "\n".join([line(COLUMNS), line(rule), *(line(values) for values in body)])


def render(rows: Sequence[Row], measurements: Sequence[Measurement], remarks: Sequence[str]) -> str:
    """The table and what a reader needs to trust it: the failed requests behind each `!`, the
    CPU spent after the windows, and remarks (what was not measured, or measured differently)."""
    parts = [markdown_table(rows)]
    errors = error_notes(measurements)
    if errors:
        lines = "\n".join(f"- {error}" for error in errors)
        parts.append(f"`!` Requests failed; req/s counts only 2xx/3xx responses:\n{lines}")
    notes = [*background_notes(measurements), *remarks]
    if notes:
        lines = "\n".join(f"- {note}" for note in notes)
        parts.append(f"Notes:\n{lines}")
    return "\n\n".join(parts) + "\n"
