"""The benchmark's arithmetic and parsing, on made-up numbers: medians over rounds, ratios taken
within a round, the table, and what wrk and /proc print. Nothing here is timed."""

from __future__ import annotations

import dataclasses

import pytest

from bench import load, proc, report
from bench.__main__ import in_turn
from bench.report import Measurement

SCENARIO = "GET /contractors/{id}"


def measured(
    implementation: str,
    round_number: int,
    *,
    requests: int = 1000,
    seconds: float = 10.0,
    cpu_seconds: float = 1.0,
    non_2xx: int = 0,
    socket_errors: int = 0,
    scenario: str = "GET /contractors/{id}",
) -> Measurement:
    return Measurement(
        round=round_number,
        implementation=implementation,
        scenario=scenario,
        requests=requests,
        non_2xx=non_2xx,
        socket_errors=socket_errors,
        seconds=seconds,
        p50_ms=float(round_number),
        p99_ms=10.0 * round_number,
        cpu_seconds=cpu_seconds,
        rss_mib=100.0 + round_number,
    )


def test_medians_over_rounds():
    measurements = [
        measured("sqlite", 1, requests=1000),
        measured("sqlite", 2, requests=3000),
        measured("sqlite", 3, requests=2000, cpu_seconds=4.0),
    ]
    (row,) = report.summarize(measurements, ["sqlite"], ["GET /contractors/{id}"])
    assert row.rounds == 3
    assert row.per_second == 200.0  # of 100, 300, 200
    assert row.p50_ms == 2.0
    assert row.p99_ms == 20.0
    assert row.rss_mib == 102.0
    # 1000, 333.3 and 2000 µs per request
    assert row.cpu_us_per_request == 1000.0
    assert row.per_second_vs_prism is None  # Prism was not run
    assert not row.flagged


def test_ratios_are_taken_within_each_round_then_medianed():
    # Round 2 is slow for both; the ratio of the medians (200/350) would hide that sqlite is
    # half as fast as the ceiling in every round but one.
    measurements = [
        measured("sqlite", 1, requests=2000),
        measured("ceiling", 1, requests=4000),
        measured("sqlite", 2, requests=1000),
        measured("ceiling", 2, requests=1000),
        measured("sqlite", 3, requests=3000),
        measured("ceiling", 3, requests=6000),
    ]
    sqlite, ceiling = report.summarize(
        measurements, ["sqlite", "ceiling"], ["GET /contractors/{id}"]
    )
    assert sqlite.per_second_vs_ceiling == 0.5  # of 0.5, 1.0, 0.5
    assert sqlite.per_second / ceiling.per_second == 0.5
    assert ceiling.per_second_vs_ceiling == 1.0
    assert ceiling.cpu_vs_ceiling == 1.0


def test_cpu_ratio_is_per_request():
    measurements = [
        measured("sqlite", 1, requests=1000, cpu_seconds=3.0),
        measured("ceiling", 1, requests=3000, cpu_seconds=1.0),
        measured("prism", 1, requests=4000),
    ]
    (sqlite,) = report.summarize(measurements, ["sqlite"], ["GET /contractors/{id}"])
    assert sqlite.cpu_vs_ceiling == pytest.approx(9.0)
    assert sqlite.per_second_vs_prism == 0.25


def test_a_reference_missing_in_a_round_leaves_that_round_out_of_the_ratio():
    measurements = [
        measured("sqlite", 1, requests=1000),
        measured("prism", 1, requests=2000),
        measured("sqlite", 2, requests=1000),  # Prism failed to start in round 2
    ]
    (sqlite,) = report.summarize(measurements, ["sqlite"], ["GET /contractors/{id}"])
    assert sqlite.per_second_vs_prism == 0.5


def test_errors_are_not_throughput_and_are_flagged():
    bad = measured("sqlite", 1, requests=1000, non_2xx=400, socket_errors=2)
    assert bad.ok_per_second == 60.0
    assert bad.cpu_us_per_request == 1000.0  # the server did answer all 1000
    (row,) = report.summarize([bad], ["sqlite"], ["GET /contractors/{id}"])
    assert row.flagged
    assert report.error_notes([bad, measured("sqlite", 2)]) == [
        "sqlite, GET /contractors/{id}, round 1: 400 of 1000 responses not 2xx/3xx, 2 socket errors"
    ]


def test_cpu_after_the_window_is_part_of_the_cost_and_noted():
    measurements = [
        dataclasses.replace(
            measured("postgresql", round_number, scenario="POST /assignments/extend"),
            cpu_after_seconds=after,
            settle_seconds=20.0,
            settled=round_number != 3,
        )
        for round_number, after in [(1, 3.0), (2, 1.0), (3, 0.0)]
    ]
    (row,) = report.summarize(measurements, ["postgresql"], ["POST /assignments/extend"])
    assert row.cpu_us_per_request == 2000.0  # of 4000, 2000, 1000
    assert measurements[0].cpu_after_share == 0.75
    assert report.background_notes(measurements) == [
        "postgresql, POST /assignments/extend: 50% of the CPU came after the window, on work "
        "the requests had queued (the server idled 20 s later)",
        "postgresql, POST /assignments/extend: still busy when the bench stopped waiting "
        "(round 3); CPU after that is not counted",
    ]
    assert report.background_notes([measured("sqlite", 1)]) == []


def test_webhook_scenarios_are_compared_with_the_same_server_without_an_endpoint():
    plain, hooked = "POST /contractors", "POST /contractors, endpoint answering"
    measurements = [
        measured("sqlite", 1, requests=2000, scenario=plain),
        dataclasses.replace(
            measured("sqlite", 1, requests=1000, scenario=hooked), delivered_after_seconds=1.5
        ),
        measured("sqlite", 2, requests=4000, scenario=plain),
        dataclasses.replace(
            measured("sqlite", 2, requests=3000, scenario=hooked), delivered_after_seconds=2.5
        ),
        measured("prism", 1, requests=9000, scenario=plain),
    ]
    (note,) = report.webhook_notes(measurements, plain)
    # Within each round, 0.5 and 0.75; their median.
    assert note == (
        "sqlite, POST /contractors, endpoint answering: 0.62 times the rate without one; "
        "the window's last delivery arrived 2.0 s after it ended"
    )


def test_the_request_log_is_compared_with_the_same_server_without_it_round_by_round():
    measurements = [
        measured("sqlite", 1, requests=900),
        measured("sqlite-unlogged", 1, requests=1000),
        measured("sqlite", 2, requests=1900),
        measured("sqlite-unlogged", 2, requests=2000),
        measured("sqlite", 1, requests=500, scenario="POST /contractors"),  # no unlogged twin
    ]
    assert report.request_log_notes(measurements, "sqlite", "sqlite-unlogged") == [
        # Within each round, 0.9 and 0.95; their median. Unlogged, 1000 and 2000 a window:
        # 1000 apart, against their median of 1500.
        "sqlite, GET /contractors/{id}: 0.93 times the rate of sqlite-unlogged "
        "(0.90 to 0.95 round by round; sqlite-unlogged's own rounds were 67% apart)"
    ]


def test_rounds_run_the_implementations_forwards_then_backwards():
    named = ["sqlite", "sqlite-unlogged", "ceiling"]  # the order is all that is looked at
    orders = [in_turn(named, round_number) for round_number in (1, 2, 3, 4)]
    assert orders[0] == orders[2] == named
    assert orders[1] == orders[3] == ["ceiling", "sqlite-unlogged", "sqlite"]
    firsts = [order.index("sqlite") < order.index("sqlite-unlogged") for order in orders]
    assert firsts.count(True) == firsts.count(False)


def test_postgresql_rows_are_measured_against_the_postgresql_ceiling():
    measurements = [
        measured("sqlite", 1, requests=1000),
        measured("ceiling", 1, requests=4000),
        measured("postgresql", 1, requests=1000),
        measured("ceiling-postgresql", 1, requests=2000),
    ]
    names = ["sqlite", "postgresql", "ceiling", "ceiling-postgresql"]
    rows = {row.implementation: row for row in report.summarize(measurements, names, [SCENARIO])}
    assert rows["sqlite"].per_second_vs_ceiling == 0.25
    assert rows["postgresql"].per_second_vs_ceiling == 0.5


def test_no_requests_means_no_cpu_per_request():
    assert measured("sqlite", 1, requests=0).cpu_us_per_request is None
    assert measured("sqlite", 1, seconds=0).ok_per_second == 0.0


def test_rows_follow_the_given_order_and_skip_what_was_not_measured():
    measurements = [
        measured("ceiling", 1, scenario="POST /quotes"),
        measured("sqlite", 1, scenario="GET /contractors/{id}"),
        measured("sqlite", 1, scenario="POST /quotes"),
    ]
    rows = report.summarize(
        measurements, ["sqlite", "prism", "ceiling"], ["GET /contractors/{id}", "POST /quotes"]
    )
    assert [(row.implementation, row.scenario) for row in rows] == [
        ("sqlite", "GET /contractors/{id}"),
        ("sqlite", "POST /quotes"),
        ("ceiling", "POST /quotes"),
    ]


def test_the_table():
    measurements = [
        measured("sqlite", 1, requests=12345, cpu_seconds=2.5, non_2xx=45),
        measured("ceiling", 1, requests=50000, cpu_seconds=2.0),
        dataclasses.replace(measured("postgresql", 1), statements=3, round_trips=5),
    ]
    measurements[0] = dataclasses.replace(measurements[0], statements=1)
    rows = report.summarize(
        measurements, ["sqlite", "ceiling", "postgresql"], ["GET /contractors/{id}"]
    )
    text = report.render(rows, measurements, ["prism not measured: no node"])
    assert text == (
        "| implementation | scenario              |   req/s | p50 ms | p99 ms | CPU µs/req "
        "| RSS MiB | req/s vs Prism | req/s vs ceiling | CPU vs ceiling "
        "| statements/req | round trips/req |\n"
        "| -------------- | --------------------- | ------: | -----: | -----: | ---------: "
        "| ------: | -------------: | ---------------: | -------------: "
        "| -------------: | --------------: |\n"
        "| sqlite         | GET /contractors/{id} | 1,230 ! |   1.00 |   10.0 |        203 "
        "|     101 |            n/a |             0.25 |           5.06 "
        "|              1 |             n/a |\n"
        "| ceiling        | GET /contractors/{id} |   5,000 |   1.00 |   10.0 |         40 "
        "|     101 |            n/a |             1.00 |           1.00 "
        "|            n/a |             n/a |\n"
        "| postgresql     | GET /contractors/{id} |     100 |   1.00 |   10.0 |      1,000 "
        "|     101 |            n/a |              n/a |            n/a "
        "|              3 |               5 |\n"
        "\n"
        "`!` Requests failed; req/s counts only 2xx/3xx responses:\n"
        "- sqlite, GET /contractors/{id}, round 1: 45 of 12345 responses not 2xx/3xx, "
        "0 socket errors\n"
        "\n"
        "Notes:\n"
        "- prism not measured: no node\n"
    )


@pytest.mark.parametrize(
    ("value", "text"), [(12.345, "12.3"), (1234.5, "1,234"), (99.94, "99.9"), (100.4, "100")]
)
def test_throughput_digits(value, text):
    assert report.throughput(value) == text


def test_lua_strings_escape_everything_but_plain_ascii():
    assert load.lua_string('{"a": "b\\\\c"}') == '"{\\034a\\034: \\034b\\092\\092c\\034}"'
    assert load.lua_string("é\n") == '"\\195\\169\\010"'


def test_the_lua_script_sets_the_request_and_reports_when_done():
    script = load.lua_script(
        load.Request("POST", "http://x/quotes", {"Authorization": "Bearer k"}, body="{}")
    )
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Authorization"] = "Bearer k"' in script
    assert 'wrk.body = "{}"' in script
    assert "done = function(summary, latency, requests)" in script
    assert "wrk.body" not in load.lua_script(load.Request("GET", "http://x/", {}))


def test_wrk_output_is_read_from_the_result_line():
    stdout = (
        "Running 10s test @ http://127.0.0.1:8000/\n  2 threads and 16 connections\n"
        'BENCH_RESULT {"requests": 5000, "non_2xx": 3, "socket_errors": 1, '
        '"microseconds": 10002000, "p50_us": 1234, "p99_us": 56789}\n'
    )
    assert load.parse_output(stdout) == load.Result(
        requests=5000, non_2xx=3, socket_errors=1, seconds=10.002, p50_ms=1.234, p99_ms=56.789
    )
    with pytest.raises(RuntimeError, match="no result line"):
        load.parse_output("unable to connect\n")


def stat_line(pid: int, parent: int, name: str = "python", utime: int = 0, rss: int = 0) -> str:
    # Fields 3.. of proc(5): state, ppid, then up to rss (field 24) and a few more.
    fields = ["S", str(parent)] + ["0"] * 9 + [str(utime), "2", "3", "4"] + ["0"] * 6
    fields += [str(rss), "0", "0"]
    return f"{pid} ({name}) " + " ".join(fields)


def test_proc_stat_is_parsed_past_a_command_name_with_spaces_and_parentheses():
    stat = proc.parse_stat(stat_line(42, 7, name="node (prism) x", utime=100, rss=2560))
    assert stat == proc.Stat(pid=42, parent=7, cpu_ticks=100 + 2 + 3 + 4, rss_pages=2560)


def test_the_process_tree_holds_every_descendant_and_nothing_else():
    stats = {
        pid: proc.parse_stat(stat_line(pid, parent))
        for pid, parent in [(1, 0), (10, 1), (11, 10), (12, 10), (13, 12), (20, 1)]
    }
    assert sorted(stat.pid for stat in proc.tree(10, stats)) == [10, 11, 12, 13]
    assert proc.tree(99, stats) == []
