"""Running it for a team: several `serve` processes on one PostgreSQL database, probes an
orchestrator can trust, metrics across processes, and the defaults of a server others reach."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from server.domain import keys
from server.store import schema
from server.store.db import Database
from tests import postgres
from tests.conftest import assert_error, bearer, new_contractor
from tests.live import OFFLINE, free_port, running_server, stop, wait_until_up

pytestmark = pytest.mark.live


@pytest.fixture
def empty_postgres():
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with postgres.fresh_database("ten99_team") as url:
        yield url


def _serve(url: str, port: int, log, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        **OFFLINE,
        "TEN99_DATABASE_URL": url,
        "TEN99_API_KEY": "t9k_test_team0123456789abcdef",
        "TEN99_LOG_LEVEL": "info",
        **env,
    }
    command = [sys.executable, "-m", "server", "serve", "--port", str(port)]
    return subprocess.Popen(
        command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


@pytest.mark.postgres
def test_three_servers_started_together_on_an_empty_database_migrate_it_once(
    empty_postgres, tmp_path
):
    ports = [free_port() for _ in range(3)]
    logs = [(tmp_path / f"serve{n}.log").open("w") for n in range(3)]
    servers = [_serve(empty_postgres, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for n, (port, server) in enumerate(zip(ports, servers, strict=True)):
            log = tmp_path / f"serve{n}.log"
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log=log)
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    finally:
        for n, server in enumerate(servers):
            stop(server, f"serve {n}")
        for log in logs:
            log.close()
    said = [(tmp_path / f"serve{n}.log").read_text() for n in range(3)]
    migrated = [text for text in said if "migrated the schema from nothing" in text]
    assert len(migrated) == 1, said
    engine = create_engine(empty_postgres)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(schema.head(),)]


@pytest.mark.postgres
def test_processes_given_the_same_key_at_once_store_it_once(empty_postgres):
    """Servers started together each make sure of TEN99_API_KEY, after the migration they
    waited for: at the same moment, none fails on the one that stored it first."""
    engine = create_engine(empty_postgres)
    schema.migrate(engine)
    engine.dispose()
    databases = [Database(empty_postgres) for _ in range(3)]
    together = threading.Barrier(len(databases))
    failed: list[Exception] = []

    def ensure(database: Database) -> None:
        together.wait()
        try:
            with database.server_work() as work:
                keys.ensure_key(work.keys, "t9k_test_team0123456789abcdef")
        except Exception as error:
            failed.append(error)

    threads = [threading.Thread(target=ensure, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with databases[0].server_work(write=False) as work:
        stored = work.keys.list()
    for database in databases:
        database.dispose()
    assert failed == []
    assert len(stored) == 1


class _Proxy:
    """A TCP proxy to PostgreSQL that the test can take away (every connection cut, and the
    port refusing) and bring back, as a database host that goes down and comes up."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def take_away(self) -> None:
        assert self._listener is not None
        # Closed alone, a socket another thread waits on in accept() goes on accepting: the
        # port would not refuse. Shut down first, the waiting accept() returns at once.
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()


def _poll(url: str, status: int, within: float) -> float:
    """Seconds until `url` answers `status`; fails after `within`."""
    started = time.monotonic()
    while True:
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=5).status_code == status:
                return time.monotonic() - started
        assert time.monotonic() - started < within, f"{url} did not answer {status}"
        time.sleep(0.1)


@pytest.mark.postgres
def test_readyz_is_503_within_seconds_of_the_database_going_away_while_healthz_stays_200(
    empty_postgres,
):
    from sqlalchemy.engine import make_url

    real = make_url(empty_postgres)
    proxy = _Proxy((real.host or "127.0.0.1", real.port or 5432))
    through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with running_server(database_url=through) as server:
        origin = server.base_url.removesuffix("/api/v1")
        assert httpx.get(f"{origin}/readyz").status_code == 200
        proxy.take_away()
        took = _poll(f"{origin}/readyz", 503, within=10)
        gone = httpx.get(f"{origin}/readyz", timeout=10)
        assert re.search(r"the database did not answer", gone.json()["problems"][0])
        assert httpx.get(f"{origin}/healthz").status_code == 200
        # /metrics still answers, and says the database is down.
        scraped = httpx.get(f"{origin}/metrics", timeout=10).text
        assert "ten99_database_up 0.0" in scraped
        proxy.start()
        back = _poll(f"{origin}/readyz", 200, within=15)
    print(f"/readyz turned 503 {took:.1f} s after the database went away, 200 {back:.1f} s after")


class _Collector:
    """An OTLP/HTTP trace receiver: every span exported to it, decoded."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        spans = self.spans = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                exported = ExportTraceServiceRequest.FromString(body)
                for resource in exported.resource_spans:
                    for scope in resource.scope_spans:
                        spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="module")
def team_server(tmp_path_factory):
    """One server as a team runs it, shared by the tests below: two processes, listening on
    every interface with no TEN99_WEBHOOK_TARGETS, sending traces to a collector."""
    collector = _Collector()
    env = {
        "TEN99_WEBHOOK_TARGETS": None,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    log = tmp_path_factory.mktemp("team") / "serve.log"
    try:
        with running_server(workers=2, host="0.0.0.0", env=env, log_path=log) as server:
            yield server, collector, log
    finally:
        collector.close()


def _requests_counted(origin: str, route: str, status: str) -> float:
    scraped = httpx.get(f"{origin}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "ten99_http_requests_total"
        and (sample.labels.get("route"), sample.labels.get("status")) == (route, status)
    )


def test_metrics_add_up_every_process_of_serve(team_server):
    server, _collector, _log = team_server
    origin = server.base_url.removesuffix("/api/v1")
    before = _requests_counted(origin, "/api/v1/contractors", "200")
    with httpx.Client(timeout=10) as http:
        headers = {**bearer(server.api_key), "Connection": "close"}
        for _ in range(40):  # new connections: both processes answer some
            http.get(f"{server.base_url}/contractors", headers=headers)
    assert _requests_counted(origin, "/api/v1/contractors", "200") - before == 40


def test_a_server_listening_beyond_loopback_refuses_loopback_webhook_targets(team_server):
    server, _collector, log = team_server
    refused = httpx.post(
        f"{server.base_url}/webhook_endpoints",
        json={"url": "http://127.0.0.1:9000/hooks", "enabled_events": ["contractor.created"]},
        headers=bearer(server.api_key),
    )
    assert_error(refused, 400, "url_not_allowed", "url")
    assert "TEN99_WEBHOOK_TARGETS=deny" in log.read_text()


def test_traces_go_to_the_otlp_endpoint_named_by_route_with_database_spans_beneath(team_server):
    server, collector, _log = team_server
    headers = bearer(server.api_key)
    made = httpx.post(f"{server.base_url}/contractors", json=new_contractor(), headers=headers)
    made = made.json()
    httpx.get(f"{server.base_url}/contractors/{made['id']}", headers=headers)
    deadline = time.monotonic() + 15
    name = "GET /api/v1/contractors/{contractor_id}"
    while not any(span.name == name for span in collector.spans):
        assert time.monotonic() < deadline, [span.name for span in collector.spans]
        time.sleep(0.1)
    request = next(span for span in collector.spans if span.name == name)
    beneath = [
        span
        for span in collector.spans
        if span.trace_id == request.trace_id and span.span_id != request.span_id
    ]
    attributes = {
        attribute.key: attribute.value.string_value
        for span in beneath
        for attribute in span.attributes
    }
    assert attributes.get("db.system") == "sqlite", [span.name for span in beneath]
    assert made["id"] not in request.name


def test_without_an_otlp_endpoint_nothing_of_opentelemetry_is_loaded(tmp_path):
    probe = (
        "import sys\n"
        "from server.app import create_app\n"
        "from server.core.settings import Settings\n"
        f"create_app(Settings(database_url='sqlite:///{tmp_path}/t.db', worker=False))\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    clean = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    ran = subprocess.run(
        [sys.executable, "-c", probe], env=clean, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip().splitlines()[-1] == "[]"
