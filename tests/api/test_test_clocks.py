"""Test clocks, in process on both databases: a sandbox user binds a policy, advances the clock
past its end and sees `expired` on the API, on the document and in a signed `policy.expired`
delivery; a session lapses; an extension after the end is refused; a failing receiver's retries
all run within one advance; live keys are refused. The advance is run as the server's worker
runs it (`run_tasks`)."""

from __future__ import annotations

import itertools
import time

import pytest

from server import worker
from server.core.principals import Environment
from server.domain.clocks import ADVANCE
from server.domain.policies import ISSUE_DOCUMENT
from server.domain.terms import DAY
from server.pdf.layout import format_date
from server.worker import clocks as clock_worker
from server.worker import webhooks as delivery
from tests.api.test_assignments import assign, extend
from tests.api.test_policies import pdf_text
from tests.conftest import (
    assert_error,
    bearer,
    bind,
    created,
    new_contractor,
    new_job,
    underwrite,
)
from tests.live import free_port
from tests.webhook_receiver import Receiver

# An advance walks the store's due moments (expiries, deliveries) and its sweeps: statements
# that differ between the databases.
pytestmark = pytest.mark.storage

BASE = "/api/v1"
HOUR = 3600


class Sandbox:
    """A sandbox key's view of the API, with its test clock."""

    def __init__(self, client, key: str, run_tasks, database, settings):
        self.client, self.key, self.run_tasks = client, key, run_tasks
        self.database, self.settings = database, settings

    def request(self, method: str, path: str, **kwargs):
        return self.client.request(method, f"{BASE}{path}", headers=bearer(self.key), **kwargs)

    def get(self, path: str) -> dict:
        response = self.request("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def freeze(self, at: int, name: str | None = None) -> dict:
        body = {"frozen_time": at} if name is None else {"frozen_time": at, "name": name}
        return created(self.request("POST", "/test_clocks", json=body))

    def advance(self, clock: dict, to: int) -> dict:
        """Advance the clock and let the worker take it there; the clock, ready."""
        response = self.request(
            "POST", f"/test_clocks/{clock['id']}/advance", json={"frozen_time": to}
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "advancing"
        assert response.json()["advancing_to"] == to
        self.run_tasks()
        ready = self.get(f"/test_clocks/{clock['id']}")
        assert ready["status"] == "ready", ready
        assert ready["frozen_time"] == to
        return ready

    def events(self, event_type: str) -> list[dict]:
        return self.get(f"/events?type={event_type}&limit=100")


@pytest.fixture
def sandbox(client, sandbox_key, run_tasks, database, settings) -> Sandbox:
    return Sandbox(client, sandbox_key, run_tasks, database, settings)


@pytest.fixture
def receiver():
    with Receiver() as endpoint:
        yield endpoint


def subscribe(sandbox: Sandbox, url: str) -> dict:
    body = {"url": url, "enabled_events": ["*"]}
    return created(sandbox.request("POST", "/webhook_endpoints", json=body))


def test_a_policy_expires_when_the_clock_passes_its_end(sandbox, receiver):
    receiver.secret = subscribe(sandbox, receiver.url)["secret"]
    start = int(time.time()) - 7 * DAY  # any time will do: the sandbox's time is the clock's
    clock = sandbox.freeze(start, name="policy life")
    assert clock["frozen_time"] == start and clock["status"] == "ready"
    assert clock["name"] == "policy life" and clock["advancing_to"] is None

    made = underwrite(sandbox.client, sandbox.key)
    # The quote's default period follows the clock: from a day after it, for 30 days.
    assert made["quote"]["effective_date"] == start + DAY
    assert made["quote"]["end_date"] == start + 31 * DAY
    policy = bind(sandbox.client, sandbox.key, made["quote"]["id"])
    assert policy["created"] == start
    sandbox.run_tasks()  # the first document
    assert sandbox.get(f"/policies/{policy['id']}")["status"] == "active"
    first_document = sandbox.get(f"/policies/{policy['id']}")["pdf_url"]

    sandbox.advance(clock, policy["expiration_date"] + HOUR)
    sandbox.run_tasks()  # the document of the expired policy

    expired = sandbox.get(f"/policies/{policy['id']}")
    assert expired["status"] == "expired" and expired["is_active"] is False
    (event,) = sandbox.events("policy.expired")
    assert event["created"] == policy["expiration_date"]
    assert event["data"]["object"]["id"] == policy["id"]
    assert event["data"]["object"]["status"] == "expired"
    # The document says so.
    assert expired["pdf_url"] != first_document
    ended = format_date(policy["expiration_date"])
    assert f"EXPIRED on {ended} (UTC)" in pdf_text(sandbox.client, expired["pdf_url"])
    # And the receiver got it, signed on the wall clock.
    delivered = [r for r in receiver.receipts if r.event["type"] == "policy.expired"]
    assert len(delivered) == 1 and delivered[0].verified
    assert delivered[0].event["id"] == event["id"]


def test_a_session_lapses_and_says_so(sandbox):
    clock = sandbox.freeze(int(time.time()))
    made = underwrite(sandbox.client, sandbox.key)
    session = created(
        sandbox.request("POST", "/apply/sessions", json={"quote": made["quote"]["id"]})
    )
    assert session["expires_at"] == clock["frozen_time"] + 24 * HOUR

    sandbox.advance(clock, session["expires_at"] - 1)
    assert sandbox.get(f"/apply/sessions/{session['id']}")["status"] == "open"
    assert sandbox.events("application.expired") == []

    sandbox.advance(sandbox.get(f"/test_clocks/{clock['id']}"), session["expires_at"] + 1)
    assert sandbox.get(f"/apply/sessions/{session['id']}")["status"] == "expired"
    (event,) = sandbox.events("application.expired")
    assert event["created"] == session["expires_at"]
    assert event["data"]["object"]["status"] == "expired"
    # The hosted page refuses it too.
    page = sandbox.client.get(session["url"].removeprefix("http://testserver"))
    assert b"session_expired" in page.content or b"expired" in page.content


def test_an_extension_after_the_coverage_ended_is_refused(sandbox):
    clock = sandbox.freeze(int(time.time()))
    made = underwrite(sandbox.client, sandbox.key)
    bind(sandbox.client, sandbox.key, made["quote"]["id"])
    job = created(
        sandbox.request("POST", "/jobs", json=new_job(made["entity"]["id"], name="Night shift"))
    )
    assignment = created(assign(sandbox.client, sandbox.key, made["contractor"]["id"], job["id"]))
    assert assignment["bind"] is True
    response = extend(sandbox.client, sandbox.key, assignment["job"], assignment["end_date"] + DAY)
    assert response.status_code == 200, response.text

    sandbox.advance(clock, response.json()["end_date"] + 1)
    late = extend(sandbox.client, sandbox.key, assignment["job"], response.json()["end_date"] + DAY)
    assert_error(late, 400, "coverage_expired")


def test_a_failing_receivers_retries_all_run_within_one_advance(sandbox, receiver):
    receiver.secret = subscribe(sandbox, receiver.url)["secret"]
    receiver.failures_left = 10**6
    clock = sandbox.freeze(int(time.time()))
    contractor = underwrite(sandbox.client, sandbox.key)["contractor"]
    (created_event,) = [e for e in sandbox.events("contractor.created")]
    assert created_event["data"]["object"]["id"] == contractor["id"]

    sandbox.advance(clock, clock["frozen_time"] + 4 * DAY)

    endpoint = sandbox.get("/webhook_endpoints")[0]
    deliveries = sandbox.get(f"/webhook_endpoints/{endpoint['id']}/deliveries?limit=100")
    mine = next(d for d in deliveries if d["event"] == created_event["id"])
    assert mine["status"] == "failed" and mine["next_attempt_at"] is None
    times = [attempt["attempted_at"] for attempt in mine["attempts"]]
    # Made in the sandbox's time, on the schedule: 30 s doubling to 8 h, for three days.
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[:3] == [30, 60, 120]
    assert max(gaps) == 8 * HOUR
    assert times[0] == clock["frozen_time"]
    assert 3 * DAY - 8 * HOUR < times[-1] - times[0] <= 3 * DAY
    assert len([r for r in receiver.receipts if r.event["id"] == created_event["id"]]) == len(times)
    assert all(r.verified for r in receiver.receipts)


def test_deliveries_due_before_the_clock_moves_are_sent_at_its_time(sandbox, receiver):
    """A frozen clock still delivers what happens at its time, at once."""
    receiver.secret = subscribe(sandbox, receiver.url)["secret"]
    sandbox.freeze(int(time.time()) + 30 * DAY)
    underwrite(sandbox.client, sandbox.key)
    sandbox.run_tasks()
    with delivery.client() as http:
        delivery.deliver_due(sandbox.database, sandbox.settings, http)
    assert {r.event["type"] for r in receiver.receipts} >= {"contractor.created", "quote.created"}


def test_a_new_clock_replaces_the_old_and_deleting_it_brings_back_the_wall_clock(sandbox):
    first = sandbox.freeze(int(time.time()) - 100 * DAY)
    second = sandbox.freeze(int(time.time()) - 50 * DAY)
    assert [c["id"] for c in sandbox.get("/test_clocks")] == [second["id"]]
    assert_error(sandbox.request("GET", f"/test_clocks/{first['id']}"), 404, "resource_not_found")

    contractor = underwrite(sandbox.client, sandbox.key)["contractor"]
    assert contractor["created"] == second["frozen_time"]

    deleted = sandbox.request("DELETE", f"/test_clocks/{second['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "id": second["id"],
        "object": "test_clock",
        "livemode": False,
        "deleted": True,
        "deleted_at": deleted.json()["deleted_at"],
    }
    assert sandbox.get("/test_clocks") == []
    later = underwrite(sandbox.client, sandbox.key)["contractor"]
    assert abs(later["created"] - time.time()) < 60


def test_advances_go_forward_by_at_most_two_years_one_at_a_time(sandbox):
    clock = sandbox.freeze(int(time.time()))
    path = f"/test_clocks/{clock['id']}/advance"
    at = clock["frozen_time"]
    for refused in (at - 1, at + 2 * 365 * DAY + 1):
        response = sandbox.request("POST", path, json={"frozen_time": refused})
        assert_error(response, 400, "invalid_input", "frozen_time")
    # To its own time: nothing happens, and it stays ready.
    still = sandbox.request("POST", path, json={"frozen_time": at})
    assert still.status_code == 200
    assert (still.json()["status"], still.json()["frozen_time"]) == ("ready", at)
    assert sandbox.request("POST", path, json={"frozen_time": at + DAY}).status_code == 200
    again = sandbox.request("POST", path, json={"frozen_time": at + 2 * DAY})
    assert_error(again, 400, "test_clock_advancing")
    sandbox.run_tasks()
    assert sandbox.request("POST", path, json={"frozen_time": at + 2 * DAY}).status_code == 200


def test_a_clock_starts_within_ten_years_of_now(sandbox):
    for far in (int(time.time()) - 11 * 365 * DAY, int(time.time()) + 11 * 365 * DAY):
        response = sandbox.request("POST", "/test_clocks", json={"frozen_time": far})
        assert_error(response, 400, "invalid_input", "frozen_time")


def test_live_keys_cannot_use_test_clocks(client, new_key, sandbox):
    clock = sandbox.freeze(int(time.time()))
    live = bearer(new_key(Environment.PRODUCTION))
    calls = [
        ("GET", "/test_clocks", None),
        ("POST", "/test_clocks", {"frozen_time": int(time.time())}),
        ("GET", f"/test_clocks/{clock['id']}", None),
        ("POST", f"/test_clocks/{clock['id']}/advance", {"frozen_time": int(time.time()) + DAY}),
        ("DELETE", f"/test_clocks/{clock['id']}", None),
    ]
    for method, path, body in calls:
        response = client.request(method, f"{BASE}{path}", json=body, headers=live)
        assert_error(response, 403, "insufficient_permissions")
    # The sandbox's clock is untouched.
    assert sandbox.get(f"/test_clocks/{clock['id']}")["status"] == "ready"


def test_another_accounts_clock_does_not_exist(client, new_key, sandbox):
    clock = sandbox.freeze(int(time.time()) - DAY)
    other = bearer(new_key(account="acct_b"))
    response = client.get(f"{BASE}/test_clocks/{clock['id']}", headers=other)
    assert_error(response, 404, "resource_not_found", "test_clock_id")
    # Nor does it move the other account's time.
    contractor = created(client.post(f"{BASE}/contractors", json=new_contractor(), headers=other))
    assert abs(contractor["created"] - time.time()) < 60


def test_a_receiver_on_a_closed_port_is_retried_on_the_sandbox_schedule(sandbox):
    """Nothing listens: every attempt fails at once, and the advance still ends."""
    subscribe(sandbox, f"http://127.0.0.1:{free_port()}/hooks")
    clock = sandbox.freeze(int(time.time()))
    underwrite(sandbox.client, sandbox.key)
    sandbox.advance(clock, clock["frozen_time"] + 4 * DAY)
    endpoint = sandbox.get("/webhook_endpoints")[0]
    deliveries = sandbox.get(f"/webhook_endpoints/{endpoint['id']}/deliveries?limit=100")
    assert deliveries and all(d["status"] == "failed" for d in deliveries)


def test_an_advance_gives_way_to_other_sandboxes_tasks_between_its_slices(
    sandbox, new_key, monkeypatch
):
    """A two-year advance runs in slices; a task another account queued meanwhile runs after
    the slice in progress, not after the whole advance."""
    monkeypatch.setattr(clock_worker, "SLICE_SECONDS", 0)  # every moment a slice of its own
    made = underwrite(sandbox.client, sandbox.key)
    policy = bind(sandbox.client, sandbox.key, made["quote"]["id"])
    clock = sandbox.freeze(int(time.time()))
    sandbox.run_tasks()
    response = sandbox.request(
        "POST",
        f"/test_clocks/{clock['id']}/advance",
        json={"frozen_time": clock["frozen_time"] + 2 * 365 * DAY},
    )
    assert response.status_code == 200, response.text
    other = new_key(account="acct_b")
    theirs = bind(sandbox.client, other, underwrite(sandbox.client, other)["quote"]["id"])

    ran: list[str] = []
    run = worker._run
    monkeypatch.setattr(
        worker, "_run", lambda context, task: (ran.append(task.kind), run(context, task))
    )
    sandbox.run_tasks()

    assert ran.count(ADVANCE) >= 2  # the policy's expiry is one moment on the way, at least
    assert ran.index(ISSUE_DOCUMENT) < len(ran) - 1 - ran[::-1].index(ADVANCE)
    assert sandbox.get(f"/test_clocks/{clock['id']}")["status"] == "ready"
    assert sandbox.get(f"/policies/{policy['id']}")["status"] == "expired"
    document = sandbox.client.get(f"{BASE}/policies/{theirs['id']}", headers=bearer(other))
    assert document.json()["pdf_url"], document.text
