"""What an operator's tools ask, outside /api/v1 and its keys: /healthz (the process lives),
/readyz (it can serve: the database answers, its schema is the one this code needs, and the
scheduler, where this process has one, goes round) and /metrics (server/core/metrics.py).

The server's app serves them on its own port; `ten99-server worker --port N` on one of its own
(a plain threaded HTTP server, as the worker has no event loop to serve on)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.core import heartbeat, metrics
from server.store.db import Database

HEALTH, READY, METRICS = "/healthz", "/readyz", "/metrics"
PATHS = (HEALTH, READY, METRICS)
NOT_CACHED = {"Cache-Control": "no-store"}
JSON = "application/json"
DATABASE_TIMEOUT_SECONDS = 2.0  # a database slower than this to answer is as good as gone


@dataclass(frozen=True)
class DatabaseState:
    """What the database answered: whether its schema is this code's (None) or why not, and,
    for /metrics, the queued work."""

    schema_problem: str | None
    backlog: list[metrics.Backlog] | None = None


class Probes:
    """The checks behind /readyz and the gauges of /metrics, for one process: `scheduler_age`
    says how long ago its scheduler last went round (None: not started), where it has one."""

    def __init__(
        self,
        database: Database,
        scheduler_age: Callable[[], float | None] | None = None,
        task_kinds: Iterable[str] = (),
    ):
        self._database = database
        self._scheduler_age = scheduler_age
        self._task_kinds = tuple(task_kinds)
        self._started = time.monotonic()
        self._threads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ten99-probe")

    def _read(self, backlog: bool) -> DatabaseState:
        with self._database.server_work(write=False) as work:
            found = work.schema_version()
            problem = None if found.is_current else found.describe()
            return DatabaseState(problem, work.backlog() if backlog else None)

    async def read_async(self, path: str) -> DatabaseState | None:
        """What `path` needs of the database; None when it does not answer in time."""
        if path == HEALTH:
            return None
        read = partial(self._read, path == METRICS)
        try:
            return await asyncio.wait_for(self._database.run(read), DATABASE_TIMEOUT_SECONDS)
        except Exception:  # unreachable, timed out, or refused: the same to a probe
            return None

    def read(self, path: str) -> DatabaseState | None:
        if path == HEALTH:
            return None
        try:
            future = self._threads.submit(self._read, path == METRICS)
            return future.result(DATABASE_TIMEOUT_SECONDS)
        except Exception:
            return None

    def problems(self, state: DatabaseState | None) -> list[str]:
        found = []
        if state is None:
            found.append(f"the database did not answer within {DATABASE_TIMEOUT_SECONDS:g} s")
        elif state.schema_problem is not None:
            found.append(state.schema_problem)
        if self._scheduler_age is not None:
            age = self._scheduler_age()
            if age is None:
                age = time.monotonic() - self._started  # its first beat is still to come
            if age > heartbeat.STUCK_SECONDS:
                found.append(f"the background scheduler has not gone round for {age:.0f} s")
        return found

    def backlog(self, state: DatabaseState | None) -> list[metrics.Backlog] | None:
        """The queued work of every kind, those with nothing queued too."""
        if state is None or state.backlog is None:
            return None
        listed = {item.kind: item for item in state.backlog}
        idle = [metrics.Backlog(kind, 0, 0, 0) for kind in self._task_kinds if kind not in listed]
        return [*listed.values(), *idle]

    def answer(self, path: str, state: DatabaseState | None) -> tuple[int, bytes, str]:
        """Status, body and content type of `path`, one of PATHS."""
        if path == METRICS:
            body, content_type = metrics.exposition(self.backlog(state))
            return 200, body, content_type
        if path == HEALTH:
            return 200, orjson.dumps({"status": "alive"}), "application/json"
        problems = self.problems(state)
        if problems:
            return (
                503,
                orjson.dumps({"status": "unavailable", "problems": problems}),
                "application/json",
            )
        return 200, orjson.dumps({"status": "ready"}), "application/json"


def add_routes(app, probes: Probes) -> None:
    async def endpoint(request: Request) -> Response:
        path = request.url.path
        status, body, content_type = probes.answer(path, await probes.read_async(path))
        return Response(
            body, status, media_type=content_type, headers={"Cache-Control": "no-store"}
        )

    for path in PATHS:
        app.add_url_rule(path, path.strip("/"), endpoint, methods=["GET"])


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args) -> None:  # probes every few seconds would flood the log
        pass


def serve_in_thread(probes: Probes, host: str, port: int) -> WSGIServer:
    """The three paths on `host`:`port`, from a daemon thread; `shutdown()` stops it."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in PATHS or environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        status, body, content_type = probes.answer(path, probes.read(path))
        reason = {200: "OK", 503: "Service Unavailable"}[status]
        start_response(f"{status} {reason}", [("Content-Type", content_type), *NOT_CACHED.items()])
        return [body]

    server = make_server(host, port, app, server_class=_Threaded, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="ten99-probes", daemon=True).start()
    return server
