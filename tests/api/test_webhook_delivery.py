"""Webhook delivery, in process on both databases, to a real HTTP receiver that verifies every
signature: the body is the event, retries follow the schedule for three days, each object's
events arrive in order, disabled and deleted endpoints, two concurrent deliverers, the
`assignment.extended` delivery, and an endpoint that is slow to answer holding up no request.

The server's wall clock is frozen (conftest's `wall_clock`) and moved by the tests (the receiver
checks signatures on the same clock); `deliver_due` is called here as the server's worker would
call it."""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from server import worker
from server.core.statuses import ENABLED, PENDING
from server.domain import webhooks
from server.domain.terms import DAY
from server.store.deliveries import _unrouted
from server.store.tables import webhook_deliveries
from server.worker import webhooks as delivery
from tests.api.test_assignments import assign, extend, get
from tests.conftest import WallClock, bearer, bind, created, new_contractor, new_job, underwrite
from tests.live import free_port
from tests.webhook_receiver import Receiver, by_object

# Deliveries are claimed under leases, in each object's order: statements and locks that
# differ between the databases.
pytestmark = pytest.mark.storage

BASE = "/api/v1"
FIRST_RETRY = 30  # TEN99_WEBHOOK_RETRY_SECONDS's default
MAX_DELAY = 8 * 3600
SIGNATURE = re.compile(r"^t=[0-9]+,v1=[0-9a-f]{64}$")


@pytest.fixture
def clock(wall_clock) -> WallClock:
    return wall_clock


@pytest.fixture
def receiver(clock):
    with Receiver(clock) as endpoint:
        yield endpoint


@pytest.fixture
def http():
    with delivery.client() as client:
        yield client


@pytest.fixture
def deliver(database, settings, clock, http):
    """One pass of the worker's delivery thread, now; returns how many attempts it made."""

    def run(client: delivery.Sender = http) -> int:
        clock.reach()
        return delivery.deliver_due(database, settings, client)

    return run


@pytest.fixture
def settle(deliver, database, clock):
    """Deliver until no delivery is pending, moving the clock to each next attempt."""

    def run(rounds: int = 40) -> None:
        for _ in range(rounds):
            deliver()  # every delivery due now, so what is pending waits for a later time
            with database.transaction() as session:
                due = session.execute(
                    select(func.min(webhook_deliveries.c.next_attempt_at)).where(
                        webhook_deliveries.c.status == PENDING,
                        # Earlier ones wait behind an earlier event about the same object.
                        webhook_deliveries.c.next_attempt_at > clock(),
                    )
                ).scalar()
            if due is None:
                return
            clock.reach(due)
        raise AssertionError(f"deliveries still pending after {rounds} rounds")

    return run


def subscribe(client, key, url, events=("*",)) -> dict:
    """A new endpoint at `url` (a Receiver's takes the endpoint's secret)."""
    target = url.url if isinstance(url, Receiver) else url
    body = {"url": target, "enabled_events": list(events)}
    endpoint = created(client.post(f"{BASE}/webhook_endpoints", json=body, headers=bearer(key)))
    if isinstance(url, Receiver):
        url.secret = endpoint["secret"]
    return endpoint


def set_status(client, key, endpoint_id, status: str) -> None:
    response = client.put(
        f"{BASE}/webhook_endpoints/{endpoint_id}", json={"status": status}, headers=bearer(key)
    )
    assert response.status_code == 200, response.text


def deliveries(client, key, endpoint_id) -> list[dict]:
    """The endpoint's deliveries, the oldest first."""
    response = client.get(
        f"{BASE}/webhook_endpoints/{endpoint_id}/deliveries?limit=100", headers=bearer(key)
    )
    assert response.status_code == 200, response.text
    return response.json()[::-1]


def failing_for_good(client, key, receiver, settle, events: int = 1) -> tuple[dict, list[dict]]:
    """An endpoint whose receiver fails every attempt, and its deliveries (the oldest first) of
    `events` new contractors' events, once three days of retries have failed them."""
    endpoint = subscribe(client, key, receiver)
    receiver.failures_left = 10**6
    for _ in range(events):
        contractor(client, key)
    settle()
    return endpoint, deliveries(client, key, endpoint["id"])


def contractor(client, key, **fields) -> dict:
    return created(
        client.post(f"{BASE}/contractors", json=new_contractor(**fields), headers=bearer(key))
    )


def update(client, key, contractor_id, **fields) -> None:
    response = client.put(f"{BASE}/contractors/{contractor_id}", json=fields, headers=bearer(key))
    assert response.status_code == 200, response.text


def events_by_object(client, key) -> dict[str, list[str]]:
    """Every event id, grouped by the object it is about, in creation order."""
    response = client.get(f"{BASE}/events?limit=100", headers=bearer(key))
    assert response.status_code == 200, response.text
    return by_object(reversed(response.json()))


# What is delivered


def test_every_delivery_is_signed_and_carries_the_event_as_the_api_shows_it(
    client, sandbox_key, receiver, settle
):
    subscribe(client, sandbox_key, receiver)
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])  # policy.created, policy.active: pdf_url
    parties = {k: made[k]["id"] for k in ("contractor", "job")}
    quote = created(
        client.post(
            f"{BASE}/quotes",
            # not the cover the policy has on file, which would be refused
            json={**parties, "coverage_type": ["general", "workers-comp"]},
            headers=bearer(sandbox_key),
        )
    )
    created(  # application.created: its url
        client.post(
            f"{BASE}/apply/sessions", json={"quote": quote["id"]}, headers=bearer(sandbox_key)
        )
    )
    settle()

    assert {"contractor.created", "policy.created", "application.created"} <= {
        e["type"] for e in receiver.delivered
    }
    assert by_object(receiver.delivered) == events_by_object(client, sandbox_key)
    links = 0
    for receipt in receiver.receipts:
        assert receipt.verified and receipt.answered == 200
        assert SIGNATURE.match(receipt.headers["ten99policy-signature"])
        assert receipt.headers["content-type"] == "application/json"
        shown = client.get(f"{BASE}/events/{receipt.event['id']}", headers=bearer(sandbox_key))
        assert shown.status_code == 200
        expected, changed = _with_server_paths(shown.json())
        assert receipt.event == expected
        links += changed
    # The session's url; a new policy's pdf_url is null until its document is issued.
    assert links >= 1


ORIGIN = "http://testserver"  # where the test client's requests go


def _with_server_paths(event: dict) -> tuple[dict, int]:
    """The event as GET /events/{id} shows it, with its links as a delivery carries them, and how
    many links that changed: without TEN99_PUBLIC_URL, a response's links are on the address the
    request came to, while a delivery's are paths on the server."""
    obj = event["data"]["object"]
    links = {
        name: value.removeprefix(ORIGIN)
        for name, value in obj.items()
        if isinstance(value, str) and value.startswith(ORIGIN + "/")
    }
    return {**event, "data": {"object": {**obj, **links}}}, len(links)


def test_a_receiver_holding_another_secret_refuses_the_delivery_which_is_retried(
    client, sandbox_key, receiver, deliver, clock
):
    endpoint = subscribe(client, sandbox_key, receiver)
    right = receiver.secret
    receiver.secret = "whsec_" + "x" * 32
    contractor(client, sandbox_key)
    assert deliver() == 1
    [refused] = receiver.receipts
    assert not refused.verified and refused.answered == 400
    [pending] = deliveries(client, sandbox_key, endpoint["id"])
    assert pending["status"] == "pending"
    assert pending["attempts"][0]["status_code"] == 400

    receiver.secret = right
    clock.reach(pending["next_attempt_at"])
    assert deliver() == 1
    assert receiver.receipts[-1].verified and receiver.receipts[-1].answered == 200


# Retries and order


def test_a_failing_receiver_gets_every_event_each_objects_in_creation_order(
    client, sandbox_key, receiver, settle
):
    subscribe(client, sandbox_key, receiver)
    receiver.failures_left = 4
    first = contractor(client, sandbox_key)
    second = contractor(client, sandbox_key, first_name="Ann")
    update(client, sandbox_key, first["id"], first_name="Jo")
    update(client, sandbox_key, second["id"], last_name="Lee")
    update(client, sandbox_key, first["id"], phone="415-474-9000")
    settle()

    made = events_by_object(client, sandbox_key)
    assert [len(made[first["id"]]), len(made[second["id"]])] == [3, 2]
    assert by_object(receiver.delivered) == made
    assert len(receiver.receipts) == 5 + 4  # every failure was retried, nothing twice
    assert not receiver.rejected


def test_attempts_are_listed_and_retried_after_30_60_then_120_seconds(
    client, sandbox_key, receiver, deliver, clock
):
    endpoint = subscribe(client, sandbox_key, receiver)
    receiver.failures_left = 3
    contractor(client, sandbox_key)
    for delay in (FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY):
        assert deliver() == 1
        [pending] = deliveries(client, sandbox_key, endpoint["id"])
        last = pending["attempts"][-1]
        assert (pending["status"], last["status_code"]) == ("pending", 500)
        assert "500" in last["error"]
        assert last["attempted_at"] == clock()
        assert pending["next_attempt_at"] == last["attempted_at"] + delay
        clock.reach(pending["next_attempt_at"] - 1)
        assert deliver() == 0  # not due before its time
        clock.reach(pending["next_attempt_at"])

    assert deliver() == 1
    [done] = deliveries(client, sandbox_key, endpoint["id"])
    assert done["status"] == "delivered" and done["next_attempt_at"] is None
    assert [a["status_code"] for a in done["attempts"]] == [500, 500, 500, 200]
    assert done["attempts"][-1]["error"] is None
    assert all(isinstance(a["duration_ms"], int) for a in done["attempts"])


def test_a_refused_connection_is_a_failed_attempt_without_status(client, sandbox_key, deliver):
    endpoint = subscribe(client, sandbox_key, f"http://127.0.0.1:{free_port()}/hooks")
    contractor(client, sandbox_key)
    assert deliver() == 1
    [pending] = deliveries(client, sandbox_key, endpoint["id"])
    [attempt] = pending["attempts"]
    assert pending["status"] == "pending" and pending["next_attempt_at"] is not None
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("no connection: ") and "111" in attempt["error"]


def _resolving(monkeypatch, answers: dict[str, str]) -> None:
    """The worker's resolver answering `answers` (name -> address) for those names."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_that_resolves_inside_the_network_at_delivery_is_not_sent(
    client, sandbox_key, receiver, deliver, monkeypatch
):
    """DNS rebinding: the name was fine when the endpoint was registered; when the delivery
    connects it resolves to an internal address, so nothing is sent, and the attempt says why."""
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = subscribe(client, sandbox_key, f"http://rebind.example:{port}/hooks")
    contractor(client, sandbox_key)
    _resolving(monkeypatch, {"rebind.example": "10.0.0.7"})
    assert deliver() == 1
    [pending] = deliveries(client, sandbox_key, endpoint["id"])
    [attempt] = pending["attempts"]
    assert attempt["status_code"] is None
    assert "10.0.0.7" in attempt["error"] and "TEN99_WEBHOOK_TARGETS" in attempt["error"]
    assert receiver.receipts == []


def test_a_delivery_connects_to_the_address_it_checked_under_the_name_written(
    client, sandbox_key, receiver, deliver, monkeypatch
):
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = subscribe(client, sandbox_key, f"http://pinned.example:{port}/hooks")
    receiver.secret = endpoint["secret"]
    contractor(client, sandbox_key)
    _resolving(monkeypatch, {"pinned.example": "127.0.0.1"})
    assert deliver() == 1
    [receipt] = receiver.receipts
    assert receipt.verified
    assert receipt.headers["host"] == f"pinned.example:{port}"


def test_an_endpoint_that_does_not_answer_in_time_is_a_failed_attempt_without_status(
    client, sandbox_key, receiver, deliver
):
    endpoint = subscribe(client, sandbox_key, receiver)
    contractor(client, sandbox_key)
    receiver.hold()  # the request arrives and is never answered within the timeout
    with delivery.client(timeout=0.5) as impatient:
        assert deliver(impatient) == 1
    assert receiver.arrived.is_set() and receiver.receipts == []
    [pending] = deliveries(client, sandbox_key, endpoint["id"])
    [attempt] = pending["attempts"]
    assert pending["status"] == "pending"
    assert attempt["status_code"] is None and attempt["error"]
    assert attempt["duration_ms"] >= 500


@pytest.fixture
def trickler():
    """A receiver that reads a request and answers one byte of its head every quarter second,
    so that no single read ever waits long: its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def trickle() -> None:
        with contextlib.suppress(OSError), listener.accept()[0] as connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if stop.wait(0.25):
                    return
                connection.sendall(bytes([byte]))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
    stop.set()
    thread.join()
    listener.close()


def test_an_answer_trickling_past_the_deadline_is_a_failed_attempt_at_the_deadline(
    client, sandbox_key, trickler, deliver
):
    """The deadline is the whole exchange's, not each read's (the sender's is 10 s; this one's
    1 s, the trickle's head 9 s)."""
    endpoint = subscribe(client, sandbox_key, trickler)
    contractor(client, sandbox_key)
    with delivery.client(timeout=1) as impatient:
        assert deliver(impatient) == 1
    [pending] = deliveries(client, sandbox_key, endpoint["id"])
    [attempt] = pending["attempts"]
    assert attempt["error"] == "no answer within 1 seconds"
    assert attempt["status_code"] is None
    # Cut at the deadline, long before the 9 s the head takes to trickle in.
    assert 1000 <= attempt["duration_ms"] < 5000


def test_after_three_days_of_failures_the_delivery_is_failed(
    client, sandbox_key, receiver, deliver, settle, clock
):
    _endpoint, [failed] = failing_for_good(client, sandbox_key, receiver, settle)
    assert failed["status"] == "failed" and failed["next_attempt_at"] is None
    times = [a["attempted_at"] for a in failed["attempts"]]
    delays = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert delays == [min(FIRST_RETRY * 2**n, MAX_DELAY) for n in range(len(delays))]
    assert times[-1] - times[0] >= DAY  # the schedule covers at least a day
    # The last attempt was within three days of the event; the next would have been past them.
    next_delay = min(FIRST_RETRY * 2 ** len(delays), MAX_DELAY)
    assert times[-1] <= failed["created"] + 3 * DAY < times[-1] + next_delay
    assert len(receiver.receipts) == len(times)

    clock.reach(times[-1] + 30 * DAY)
    assert deliver() == 0
    assert len(receiver.receipts) == len(times)


# Disabled and deleted endpoints


def test_a_disabled_endpoints_deliveries_wait_until_it_is_enabled_again(
    client, sandbox_key, receiver, deliver, clock
):
    endpoint = subscribe(client, sandbox_key, receiver)
    made = contractor(client, sandbox_key)
    set_status(client, sandbox_key, endpoint["id"], "disabled")
    clock.reach(clock() + DAY)
    assert deliver() == 0
    assert receiver.receipts == []

    set_status(client, sandbox_key, endpoint["id"], "enabled")
    assert deliver() == 1
    [event] = receiver.delivered
    assert (event["type"], event["data"]["object"]["id"]) == ("contractor.created", made["id"])


def test_a_deleted_endpoint_gets_nothing_more(client, sandbox_key, receiver, deliver, clock):
    endpoint = subscribe(client, sandbox_key, receiver)
    receiver.failures_left = 1
    made = contractor(client, sandbox_key)
    assert deliver() == 1  # fails, to be retried
    response = client.delete(
        f"{BASE}/webhook_endpoints/{endpoint['id']}", headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    update(client, sandbox_key, made["id"], first_name="Jo")
    clock.reach(clock() + DAY)
    assert deliver() == 0
    assert len(receiver.receipts) == 1 and receiver.delivered == []


# Concurrency


def test_two_concurrent_deliverers_send_each_event_once(
    client, sandbox_key, receiver, database, settings, clock
):
    subscribe(client, sandbox_key, receiver)
    for n in range(12):
        contractor(client, sandbox_key, email=f"c{n}@example.com")
    receiver.delay = 0.02  # both deliverers are then sending at the same time
    clock.reach()
    made, errors = [], []
    start = threading.Barrier(2)

    def deliverer():
        start.wait()
        try:
            with delivery.client() as own:
                made.append(delivery.deliver_due(database, settings, own))
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(made) == 12
    receipts = Counter(event["id"] for event in receiver.delivered)
    assert len(receipts) == 12 and set(receipts.values()) == {1}


# The extension's delivery


def test_an_extension_is_delivered_once_with_the_regenerated_certificates(
    client, sandbox_key, receiver, settle, database, settings
):
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])
    job = created(
        client.post(f"{BASE}/jobs", json=new_job(made["entity"]["id"]), headers=bearer(sandbox_key))
    )
    assignment = created(assign(client, sandbox_key, made["contractor"]["id"], job["id"]))
    worker.run_due(database, settings)
    before = get(client, sandbox_key, assignment["id"])["certificates"]
    subscribe(client, sandbox_key, receiver)

    response = extend(client, sandbox_key, job["id"], assignment["end_date"] + 7 * DAY)
    assert response.status_code == 200, response.text
    settle()
    assert "assignment.extended" not in {e["type"] for e in receiver.delivered}
    worker.run_due(database, settings)  # the regeneration, which publishes the event
    settle()

    extended = [e for e in receiver.delivered if e["type"] == "assignment.extended"]
    assert len(extended) == 1
    fresh = get(client, sandbox_key, assignment["id"])
    paths = {name: url.removeprefix(ORIGIN) for name, url in fresh["certificates"].items()}
    assert extended[0]["data"]["object"]["certificates"] == paths
    assert fresh["certificates"] != before
    assert extended[0]["data"]["object"]["certificate_refresh_pending"] is False


# Delivery never blocks the API


def test_the_api_answers_while_a_delivery_waits_on_a_slow_endpoint(
    client, sandbox_key, receiver, database, settings, clock, settle
):
    endpoint = subscribe(client, sandbox_key, receiver)
    first = contractor(client, sandbox_key)
    assert not receiver.arrived.is_set()  # recording an event calls no endpoint
    receiver.hold()
    clock.reach()
    sender = threading.Thread(target=_deliver_due, args=(database, settings))
    sender.start()
    assert receiver.arrived.wait(10), "the delivery never reached the receiver"

    # The attempt is in flight and unanswered: reads and writes (which record events and
    # deliveries of their own) answer all the same. Had the delivery kept a transaction open
    # over its POST, these writes would wait (on SQLite's write lock) until the receiver gave up
    # holding, and its answer would then be among the receipts.
    second = contractor(client, sandbox_key, first_name="Ann")
    update(client, sandbox_key, first["id"], first_name="Jo")
    delivery.route(database)  # as the sender's next round does
    listed = deliveries(client, sandbox_key, endpoint["id"])
    assert [d["attempts"] for d in listed] == [[], [], []]
    assert receiver.in_flight >= 1 and receiver.receipts == []  # none answered yet

    receiver.release()
    sender.join(timeout=30)
    assert not sender.is_alive()
    settle()
    assert by_object(receiver.delivered) == events_by_object(client, sandbox_key)
    assert set(events_by_object(client, sandbox_key)) == {first["id"], second["id"]}


def _deliver_due(database, settings) -> None:
    with delivery.client() as own:
        delivery.deliver_due(database, settings, own)


# Standard Webhooks, and rotating the secret


def standard_headers(receipt) -> dict[str, str]:
    return {k: receipt.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}


def signed_by(secret: str, receipt) -> bool:
    """Whether the delivery's `webhook-signature` holds the signature a Standard Webhooks
    library makes with `secret` (its own check also wants the wall clock near the timestamp,
    which a test that moves the clock days ahead cannot give it)."""
    headers = standard_headers(receipt)
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], at, receipt.body.decode())
    return expected in headers["webhook-signature"].split(" ")


def test_a_standard_webhooks_library_verifies_every_delivery(client, sandbox_key, receiver, settle):
    endpoint = subscribe(client, sandbox_key, receiver)
    made = contractor(client, sandbox_key)
    settle()
    (receipt,) = receiver.receipts
    event = Webhook(endpoint["secret"]).verify(receipt.body, standard_headers(receipt))
    assert event["data"]["object"]["id"] == made["id"]
    assert receipt.headers["webhook-id"] == event["id"]  # the same on every retry
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(
            receipt.body.replace(b"cn_", b"cX_"), standard_headers(receipt)
        )


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    client, sandbox_key, receiver, settle, clock
):
    endpoint = subscribe(client, sandbox_key, receiver)
    old = endpoint["secret"]
    response = client.post(
        f"{BASE}/webhook_endpoints/{endpoint['id']}/rotate_secret", headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    rotated = response.json()
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    assert {k: v for k, v in rotated.items() if k != "secret"} == client.get(
        f"{BASE}/webhook_endpoints/{endpoint['id']}", headers=bearer(sandbox_key)
    ).json()

    receiver.secret = new
    contractor(client, sandbox_key)
    settle()
    # Within the day: both secrets sign, in both headers, so either receiver verifies.
    (during,) = receiver.receipts
    assert during.verified
    assert during.headers["ten99policy-signature"].count(",v1=") == 2
    assert signed_by(new, during) and signed_by(old, during)
    for secret in (old, new):
        Webhook(secret).verify(during.body, standard_headers(during))

    clock.reach(clock() + DAY + 1)
    contractor(client, sandbox_key)
    settle()
    after = receiver.receipts[-1]
    assert after.verified
    assert after.headers["ten99policy-signature"].count(",v1=") == 1
    assert signed_by(new, after) and not signed_by(old, after)


def test_a_rotated_secret_keeps_its_day_in_a_sandbox_whose_clock_is_in_the_past(
    client, sandbox_key, receiver, settle, clock, sandbox_clock
):
    """Signatures are on the wall clock, so is the day both secrets sign: a sandbox clock a
    year back neither ends it at once nor stretches it."""
    sandbox_clock.start(clock() - 365 * DAY)
    endpoint = subscribe(client, sandbox_key, receiver)
    url = f"{BASE}/webhook_endpoints/{endpoint['id']}/rotate_secret"
    receiver.secret = client.post(url, headers=bearer(sandbox_key)).json()["secret"]
    contractor(client, sandbox_key)
    settle()
    (during,) = receiver.receipts
    assert signed_by(receiver.secret, during) and signed_by(endpoint["secret"], during)

    clock.reach(clock() + DAY + 1)
    contractor(client, sandbox_key)
    settle()
    after = receiver.receipts[-1]
    assert signed_by(receiver.secret, after) and not signed_by(endpoint["secret"], after)


def test_rotating_again_retires_the_secret_before_at_once(client, sandbox_key, receiver, settle):
    endpoint = subscribe(client, sandbox_key, receiver)
    url = f"{BASE}/webhook_endpoints/{endpoint['id']}/rotate_secret"
    second = client.post(url, headers=bearer(sandbox_key)).json()["secret"]
    third = client.post(url, headers=bearer(sandbox_key)).json()["secret"]
    receiver.secret = third
    contractor(client, sandbox_key)
    settle()
    (receipt,) = receiver.receipts
    assert signed_by(third, receipt) and signed_by(second, receipt)
    assert not signed_by(endpoint["secret"], receipt)


def test_only_the_owner_rotates_an_endpoints_secret(client, sandbox_key, new_key, receiver):
    endpoint = subscribe(client, sandbox_key, receiver)
    url = f"{BASE}/webhook_endpoints/{endpoint['id']}/rotate_secret"
    other = new_key(account="acct_b")
    assert client.post(url, headers=bearer(other)).status_code == 404
    unknown = client.post(
        f"{BASE}/webhook_endpoints/we_unknown000000/rotate_secret", headers=bearer(sandbox_key)
    )
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "resource_not_found"


# Retrying a delivery by hand


def retry(client, key, endpoint_id, delivery_id):
    return client.post(
        f"{BASE}/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
        headers=bearer(key),
    )


def test_a_failed_delivery_retried_is_delivered(
    client, sandbox_key, receiver, deliver, settle, clock
):
    endpoint, [failed] = failing_for_good(client, sandbox_key, receiver, settle)
    assert failed["status"] == "failed"

    receiver.failures_left = 0  # the receiver is mended
    response = retry(client, sandbox_key, endpoint["id"], failed["id"])
    assert response.status_code == 200, response.text
    retried = response.json()
    assert retried["status"] == "pending" and retried["next_attempt_at"] == clock()
    assert retried["attempts"] == failed["attempts"]
    assert deliver() == 1
    [delivered] = deliveries(client, sandbox_key, endpoint["id"])
    assert delivered["status"] == "delivered" and delivered["next_attempt_at"] is None
    assert len(delivered["attempts"]) == len(failed["attempts"]) + 1
    assert receiver.receipts[-1].verified and receiver.receipts[-1].answered == 200


def test_a_pending_delivery_retried_does_not_wait_for_its_backoff(
    client, sandbox_key, receiver, deliver
):
    endpoint = subscribe(client, sandbox_key, receiver)
    receiver.failures_left = 1
    contractor(client, sandbox_key)
    assert deliver() == 1
    [waiting] = deliveries(client, sandbox_key, endpoint["id"])
    assert waiting["status"] == "pending" and waiting["next_attempt_at"] > time.time()
    assert deliver() == 0  # not due yet
    assert retry(client, sandbox_key, endpoint["id"], waiting["id"]).status_code == 200
    assert deliver() == 1
    [delivered] = deliveries(client, sandbox_key, endpoint["id"])
    assert delivered["status"] == "delivered"


def test_a_delivered_delivery_retried_is_sent_again(client, sandbox_key, receiver, deliver):
    endpoint = subscribe(client, sandbox_key, receiver)
    contractor(client, sandbox_key)
    assert deliver() == 1
    [delivered] = deliveries(client, sandbox_key, endpoint["id"])
    assert retry(client, sandbox_key, endpoint["id"], delivered["id"]).status_code == 200
    assert deliver() == 1
    first, second = receiver.receipts
    assert first.event == second.event  # the same event, the same webhook-id
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_only_the_endpoints_own_deliveries_are_retried(
    client, sandbox_key, new_key, receiver, deliver
):
    endpoint = subscribe(client, sandbox_key, receiver)
    other = subscribe(client, sandbox_key, "http://127.0.0.1:9/other")
    contractor(client, sandbox_key)
    deliver()
    [mine] = deliveries(client, sandbox_key, endpoint["id"])
    for response in (
        retry(client, sandbox_key, other["id"], mine["id"]),  # another endpoint's
        retry(client, sandbox_key, endpoint["id"], "whd_0NoSuchDelivery"),
        retry(client, new_key(account="acct_b"), endpoint["id"], mine["id"]),  # another account's
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error_code"] == "resource_not_found"


def test_every_failed_delivery_of_an_endpoint_is_retried_at_once(
    client, sandbox_key, receiver, deliver, settle
):
    endpoint, failed = failing_for_good(client, sandbox_key, receiver, settle, events=2)
    url = f"{BASE}/webhook_endpoints/{endpoint['id']}/retry_failed"
    assert [d["status"] for d in failed] == ["failed", "failed"]

    receiver.failures_left = 0
    response = client.post(url, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    retried = response.json()
    assert [d["id"] for d in retried] == [d["id"] for d in reversed(failed)]  # newest first
    assert {d["status"] for d in retried} == {"pending"}
    assert deliver() == 2
    assert {d["status"] for d in deliveries(client, sandbox_key, endpoint["id"])} == {"delivered"}
    # Nothing failed is left: nothing to retry.
    assert client.post(url, headers=bearer(sandbox_key)).json() == []


def test_retrying_the_failed_deliveries_of_an_unknown_endpoint_is_404(client, sandbox_key):
    response = client.post(
        f"{BASE}/webhook_endpoints/we_0NoSuchEndpoint/retry_failed", headers=bearer(sandbox_key)
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "resource_not_found"


def test_a_round_takes_nothing_another_routed_or_leased_since_it_read(
    client, sandbox_key, receiver, database, clock
):
    """A round reads what to route and what is due before it takes the writers' lock: what
    another deliverer routed or leased meanwhile, it leaves alone."""
    subscribe(client, sandbox_key, receiver)
    contractor(client, sandbox_key)
    clock.reach()
    with database.server_work(write=False) as work:
        new, endpoints = work.deliveries.unrouted(500, ENABLED)
    assert len(new) == 1
    assert delivery.route(database) == 1  # another deliverer, meanwhile
    with database.server_work() as work:
        assert work.deliveries.route(new, webhooks.deliveries_for(new, endpoints)) == 0
    with database.server_work(write=False) as work:
        due = work.deliveries.due(work.wall(), limit=10, share=10, in_flight=Counter())
        assert len(due) == 1  # one delivery, not two
    with database.server_work() as work:
        assert len(work.deliveries.lease(due, work.wall(), 30)) == 1
    with database.server_work() as work:  # the same read, leased by another
        assert work.deliveries.lease(due, work.wall(), 30) == []


def test_the_read_of_events_to_route_binds_no_value_its_plan_could_depend_on():
    """PostgreSQL plans a prepared statement once for any values after a few runs; with `LIMIT
    $1` that plan hashed every event ever made, each round. The limit is written in."""
    compiled = _unrouted(False, webhooks.ROUTE_BATCH).compile(dialect=postgresql.dialect())
    assert compiled.params == {}
    assert f"LIMIT {webhooks.ROUTE_BATCH}" in compiled.string
