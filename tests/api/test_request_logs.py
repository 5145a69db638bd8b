"""The request log over real HTTP, on both databases: a request found by the request-id its
answer carried, with its bodies (secrets redacted), status, error code, idempotency key and
replay; the filters; a refusal of validation logged too; the log's own reads not logged; a
live key refused; the bound on a sandbox's log; and `ten99-server logs tail` following it."""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from server.core.principals import DEFAULT_ACCOUNT, Environment, Principal
from server.domain.terms import DAY
from server.middleware.request_log import FLUSH_SECONDS, RequestLogWriter
from server.store.db import Database
from server.worker import purge_expired, request_log_process
from server.worker.request_log_process import EntryWriter, Noted
from tests.conftest import new_contractor
from tests.live import eventually, running_server

pytestmark = pytest.mark.storage


def _api(live, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, auth=(key or live.new_key(), ""), timeout=30)


def _logged(api: httpx.Client, request_id: str) -> dict:
    response = eventually(
        lambda: api.get(f"/request_logs/{request_id}"), lambda r: r.status_code == 200
    )
    return response.json()


def test_a_request_is_found_by_its_request_id_with_secrets_redacted(live):
    api = _api(live)
    body = new_contractor(tax_identification="123-45-6789")
    key = str(uuid.uuid4())
    made = api.post("/contractors", json=body, headers={"Idempotency-Key": key})
    assert made.status_code == 201, made.text
    found = _logged(api, made.headers["request-id"])
    assert found["object"] == "request_log" and found["livemode"] is False
    assert (found["method"], found["path"], found["operation_id"]) == (
        "POST",
        "/api/v1/contractors",
        "createContractor",
    )
    assert (found["status"], found["error_code"], found["idempotency_key"]) == (201, None, key)
    assert found["idempotent_replayed"] is False and found["duration_ms"] > 0
    assert "123-45-6789" not in found["request_body"]
    assert '"tax_identification":"[redacted]"' in found["request_body"]
    assert made.json()["id"] in found["response_body"]

    replayed = api.post("/contractors", json=body, headers={"Idempotency-Key": key})
    assert _logged(api, replayed.headers["request-id"])["idempotent_replayed"] is True

    endpoint = api.post("/webhook_endpoints", json={"url": "https://receiver.example/hooks"})
    secret = endpoint.json()["secret"]
    shown = _logged(api, endpoint.headers["request-id"])["response_body"]
    assert secret not in shown and '"secret":"[redacted]"' in shown


def test_refusals_are_logged_and_the_filters_find_them(live):
    api = _api(live)
    refused = api.post("/contractors", json={"first_name": "Ada"})
    assert refused.status_code == 400
    missing = api.get("/contractors/cn_0NoSuchOne")
    assert missing.status_code == 404
    found = _logged(api, refused.headers["request-id"])
    assert (found["status"], found["error_code"]) == (400, "invalid_input")
    _logged(api, missing.headers["request-id"])

    def ids(**filters) -> list[str]:
        response = api.get("/request_logs", params=filters)
        assert response.status_code == 200, response.text
        return [logged["id"] for logged in response.json()]

    assert ids(status=400) == [refused.headers["request-id"]]
    assert ids(method="GET") == [missing.headers["request-id"]]
    assert ids(operation_id="retrieveContractor") == [missing.headers["request-id"]]
    assert ids() == [missing.headers["request-id"], refused.headers["request-id"]]
    assert ids(created_gte=found["created"] + 3600) == []
    assert ids(created_lte=found["created"] + 3600, limit=1) == [missing.headers["request-id"]]
    # The log's own reads are not in it.
    listed = api.get("/request_logs").json()
    assert all(logged["operation_id"] != "listRequestLogs" for logged in listed)
    response = api.get("/request_logs/req_0NoSuchRequest")
    assert response.status_code == 404


def test_a_live_key_is_refused_and_another_sandbox_sees_nothing(live):
    api = _api(live)
    made = api.post("/contractors", json=new_contractor())
    _logged(api, made.headers["request-id"])
    other = _api(live)
    assert other.get(f"/request_logs/{made.headers['request-id']}").status_code == 404
    assert other.get("/request_logs").json() == []
    production = _api(live, live.new_key(Environment.PRODUCTION))
    refused = production.get("/request_logs")
    assert (refused.status_code, refused.json()["error_code"]) == (400, "sandbox_only")


def _line_within(process: subprocess.Popen, seconds: float) -> str:
    """The process's next line of output, or a failure after `seconds`."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=seconds)
    except queue.Empty:
        pytest.fail(f"`logs tail` printed nothing within {seconds} s")


def test_logs_tail_follows_a_sandbox_live(live):
    key = live.new_key()
    api = _api(live, key)
    tail = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ten99-server")),
            "logs",
            "tail",
            "--key",
            key,
            "--database",
            live.database_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        made = api.post("/contractors", json=new_contractor())
        assert made.status_code == 201
        line = _line_within(tail, seconds=15)
        assert made.headers["request-id"] in line
        assert "201" in line and "POST /api/v1/contractors" in line and "createContractor" in line
    finally:
        tail.terminate()
        tail.wait(timeout=10)


def _entry(principal: Principal, created: int, number: int) -> Noted:
    """A request as the envelope notes it."""
    return Noted(
        request_id=f"req_Bound{number}",
        account_id=principal.account_id,
        created=created,
        method="GET",
        path="/api/v1/contractors",
        query=b"",
        operation_id="listContractors",
        duration_us=1000,
        request_headers=[(b"accept", b"application/json")],
        request_body=b"",
        status=200,
        response_headers=[(b"content-type", b"application/json")],
        response_body=b"[]",
    )


def test_a_sandboxs_log_keeps_its_latest_and_none_older_than_its_days(database, new_key):
    new_key()  # the account
    principal = Principal("acct_a", Environment.SANDBOX)
    now = int(time.time())
    writer = RequestLogWriter(database, keep=3)
    for number in range(5):
        writer.add(_entry(principal, now - 8 * DAY, number))
    writer.write_all()  # written, and cut back to the latest 3
    assert _kept(database, principal) == ["req_Bound2", "req_Bound3", "req_Bound4"]
    # The worker forgets what was logged more than 7 days ago.
    assert purge_expired(database) == 3
    assert _kept(database, principal) == []


def test_the_bounds_cut_through_the_batches_the_log_is_kept_in(database, new_key):
    new_key()  # the account
    principal = Principal("acct_a", Environment.SANDBOX)
    now = int(time.time())
    old, recent = now - 8 * DAY, now - DAY
    writer = RequestLogWriter(database, keep=1_000)
    for batch in ((0, old), (1, old)), ((2, old), (3, recent)), ((4, recent), (5, recent)):
        for number, created in batch:
            writer.add(_entry(principal, created, number))
        writer.write_all()  # one batch
    with database.server_work() as work:
        work.prune_request_logs([principal], 5)  # the oldest batch cut to its newest request
    assert _kept(database, principal) == [f"req_Bound{number}" for number in range(1, 6)]
    assert purge_expired(database) == 2  # the old ones, a whole batch and half of one
    assert _kept(database, principal) == ["req_Bound3", "req_Bound4", "req_Bound5"]


def test_requests_answered_while_a_batch_is_written_wait_for_the_next_round(database, new_key):
    """Under steady load each round writes what came in its tenth of a second, not the few
    requests answered while the last batch was written (a round for every ten requests took an
    eighth of the event loop under GET load)."""
    new_key()  # the account
    principal = Principal("acct_a", Environment.SANDBOX)
    now = int(time.time())
    writer = RequestLogWriter(database, keep=1_000)
    rounds = []
    write_batch = writer.entries.write

    def write_as_load_goes_on(entries) -> None:
        write_batch(entries)
        rounds.append(time.monotonic())
        if len(rounds) < 4:
            writer.add(_entry(principal, now, 100 + len(rounds)))  # answered meanwhile

    writer.entries.write = write_as_load_goes_on

    async def load() -> float:
        started = time.monotonic()
        for number in range(3):
            writer.add(_entry(principal, now, number))
        while len(rounds) < 4 and time.monotonic() - started < 30:
            await asyncio.sleep(0.01)
        await database.close_requests()  # its connections are of this loop
        return started

    started = asyncio.run(load())
    # Each round waited its tenth of a second after the last: a slow machine only delays them.
    assert len(rounds) == 4
    for number, written in enumerate(rounds, start=1):
        assert written - started >= number * FLUSH_SECONDS, [t - started for t in rounds]
    assert _kept(database, principal) == [f"req_Bound{n}" for n in (0, 1, 2, 101, 102, 103)]


class _Recorded(EntryWriter):
    """An entry writer that records which requests it wrote, and fails once told to."""

    def __init__(self, database, failing: threading.Event | None = None):
        super().__init__(database, keep=1_000)
        self.wrote: list[str] = []
        self.failing = failing or threading.Event()

    def write(self, entries) -> None:
        entries = list(entries)
        if self.failing.is_set():
            raise RuntimeError("the database refused the batch")
        super().write(entries)
        self.wrote += [entry.request_id for entry in entries]


def test_what_the_request_log_process_did_not_write_the_server_process_writes(
    database, new_key, tmp_path
):
    """Batches go to `serve`'s request-log process; one it does not answer (it failed, or it is
    gone), and each after it, the server process writes itself."""
    new_key()  # the account
    principal = Principal("acct_a", Environment.SANDBOX)
    now = int(time.time())
    path = str(tmp_path / "request-log.sock")
    in_process = _Recorded(database)
    log_server = request_log_process.LogServer(request_log_process.listen(path), in_process)
    serving = threading.Thread(target=log_server.serve_forever)
    serving.start()
    writer = RequestLogWriter(database, keep=1_000, process=path)
    here = writer.entries = _Recorded(database)

    async def requests_while_the_process_fails() -> None:
        writer.add(_entry(principal, now, 0))
        while not in_process.wrote:
            await asyncio.sleep(0.01)
        in_process.failing.set()  # it closes the connection without answering the next batch
        writer.add(_entry(principal, now, 1))
        while not here.wrote:
            await asyncio.sleep(0.01)
        writer.add(_entry(principal, now, 2))
        await writer.close()
        await database.close_requests()  # its connections are of this loop

    try:
        asyncio.run(asyncio.wait_for(requests_while_the_process_fails(), 30))
    finally:
        log_server.shutdown()
        serving.join()
        log_server.server_close()
    assert in_process.wrote == ["req_Bound0"]
    assert here.wrote == ["req_Bound1", "req_Bound2"]
    assert _kept(database, principal) == ["req_Bound0", "req_Bound1", "req_Bound2"]


@pytest.mark.live
def test_serve_writes_every_request_noted_before_it_stopped(tmp_path):
    """The server processes ship what they noted until they end; `serve` stops its request-log
    process last, once that is written."""
    database_url = f"sqlite:///{tmp_path}/stopped.db"
    with running_server(database_url=database_url) as server:
        api = httpx.Client(base_url=server.base_url, auth=(server.api_key, ""), timeout=30)
        answered = [api.get("/contractors").headers["request-id"] for _ in range(40)]
        api.close()
    database = Database(database_url)
    try:
        kept = _kept(database, Principal(DEFAULT_ACCOUNT, Environment.SANDBOX))
    finally:
        database.dispose()
    assert kept == answered


def _kept(database, principal: Principal) -> list[str]:
    with database.server_work(write=False) as work:
        return [row["id"] for row in work.request_logs_after(principal, None, 100)]
