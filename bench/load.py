"""The load: wrk, with a Lua script per scenario that sets the request and, when wrk is done,
prints one JSON line with exact counts and latency percentiles (wrk's own text rounds them)."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian's package)"
RESULT_MARK = "BENCH_RESULT "
# Generous, so that a slow server's requests are measured rather than dropped as timeouts.
TIMEOUT_SECONDS = 10
# wrk runs on the same machine as the server; more threads than cores would only compete.
MAX_THREADS = 2


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class Result:
    requests: int
    non_2xx: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p99_ms: float


def wrk_path() -> str | None:
    return shutil.which("wrk")


def lua_string(value: str) -> str:
    """A Lua string literal of `value`: printable ASCII as is, every other byte as \\ddd (LuaJIT
    has no \\u escapes)."""
    escaped = []
    for byte in value.encode():
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            escaped.append(char)
        else:
            escaped.append(f"\\{byte:03d}")
    return '"' + "".join(escaped) + '"'


# wrk calls done() once, after all threads stopped; latencies are in microseconds.
DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "non_2xx": %d, "socket_errors": %d, "microseconds": %d, '
      .. '"p50_us": %d, "p99_us": %d}\\n',
    MARK, summary.requests, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(request: Request) -> str:
    lines = [f"wrk.method = {lua_string(request.method)}"]
    lines += [
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}"
        for name, value in request.headers.items()
    ]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    lines.append(f"MARK = {lua_string(RESULT_MARK)}")
    return "\n".join(lines) + "\n" + DONE


def parse_output(stdout: str) -> Result:
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            fields = json.loads(line.removeprefix(RESULT_MARK))
            return Result(
                requests=fields["requests"],
                non_2xx=fields["non_2xx"],
                socket_errors=fields["socket_errors"],
                seconds=fields["microseconds"] / 1e6,
                p50_ms=fields["p50_us"] / 1000,
                p99_ms=fields["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result line:\n{stdout}")


def run(request: Request, *, seconds: float, connections: int) -> Result:
    """Load the server with `connections` open connections for `seconds`."""
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="ten99-bench-wrk-") as tmp:
        script = Path(tmp) / "scenario.lua"
        script.write_text(lua_script(request))
        command = [
            wrk,
            f"--threads={min(MAX_THREADS, connections)}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={TIMEOUT_SECONDS}s",
            f"--script={script}",
            request.url,
        ]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return parse_output(finished.stdout)


WORK_HEADER = "Ten99-Database-Work"
WORK_SAMPLES = 20


@dataclass(frozen=True)
class DatabaseWork:
    statements: float
    transactions: float


def database_work(request: Request, samples: int = WORK_SAMPLES) -> DatabaseWork | None:
    """The median statements and transactions of `samples` requests, one after the other, as the
    server counts them (TEN99_COUNT_STATEMENTS); None if it does not say."""
    statements, transactions = [], []
    for _ in range(samples):
        sent = urllib.request.Request(
            request.url,
            data=None if request.body is None else request.body.encode(),
            method=request.method,
            headers=request.headers,
        )
        try:
            with urllib.request.urlopen(sent, timeout=TIMEOUT_SECONDS) as response:
                said = response.headers.get(WORK_HEADER)
        except urllib.error.HTTPError as error:
            said = error.headers.get(WORK_HEADER)
        if said is None:
            return None
        counts = dict(part.strip().split("=") for part in said.split(","))
        statements.append(int(counts["statements"]))
        transactions.append(int(counts["transactions"]))
    return DatabaseWork(statistics.median(statements), statistics.median(transactions))
