"""Webhook endpoints: create (the secret shown once), list, retrieve, update, delete, and the
deliveries queued for each event an enabled endpoint wants. Sending them is
test_webhook_delivery.py's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from server import worker
from server.core.egress import TargetPolicy
from server.core.principals import Environment
from server.domain.terms import DAY
from server.store.tables import webhook_deliveries
from tests.conftest import assert_error, bearer, created, new_contractor, settings_from, underwrite

BASE = "/api/v1/webhook_endpoints"
URL = "https://platform.example/hooks/1099policy"
SECRET = re.compile(r"whsec_[A-Za-z0-9]{32}")


def create_endpoint(client, key, url=URL, enabled_events=("*",), **fields):
    body = {"url": url, "enabled_events": list(enabled_events), **fields}
    return client.post(BASE, json=body, headers=bearer(key))


def endpoint(client, key, url=URL, enabled_events=("*",), **fields) -> dict:
    return created(create_endpoint(client, key, url, enabled_events, **fields))


def retrieve(client, key, endpoint_id):
    return client.get(f"{BASE}/{endpoint_id}", headers=bearer(key))


def update(client, key, endpoint_id, **changes):
    return client.put(f"{BASE}/{endpoint_id}", json=changes, headers=bearer(key))


def delete(client, key, endpoint_id):
    return client.delete(f"{BASE}/{endpoint_id}", headers=bearer(key))


def ok(response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


def listed(client, key, **params) -> list[str]:
    return [e["id"] for e in ok(client.get(BASE, params=params, headers=bearer(key)))]


def deliveries(client, key, endpoint_id, **params) -> list[dict]:
    url = f"{BASE}/{endpoint_id}/deliveries"
    return ok(client.get(url, params=params, headers=bearer(key)))


def delivery_ids(client, key, endpoint_id, **params) -> list[str]:
    return [d["id"] for d in deliveries(client, key, endpoint_id, **params)]


def events(client, key, **params) -> list[dict]:
    return ok(client.get("/api/v1/events", params=params, headers=bearer(key)))


def contractor(client, key, **fields) -> dict:
    body = new_contractor(**fields)
    return created(client.post("/api/v1/contractors", json=body, headers=bearer(key)))


def rename(client, key, contractor_id, name) -> dict:
    url = f"/api/v1/contractors/{contractor_id}"
    return ok(client.put(url, json={"first_name": name}, headers=bearer(key)))


def without_secret(made: dict) -> dict:
    return {name: value for name, value in made.items() if name != "secret"}


def stored_deliveries(database, endpoint_id) -> int:
    table = webhook_deliveries
    query = select(func.count()).where(table.c.endpoint_id == endpoint_id)
    with database.transaction() as session:
        return session.execute(query).scalar_one()


# Create, and the secret


@pytest.mark.storage
def test_create_answers_the_endpoint_with_its_secret(client, sandbox_key):
    made = endpoint(
        client, sandbox_key, enabled_events=["assignment.created", "assignment.extended"]
    )
    assert re.fullmatch(r"we_[A-Za-z0-9]+", made["id"])
    assert made["object"] == "webhook_endpoint"
    assert isinstance(made["created"], int)
    assert made["url"] == URL
    assert made["description"] is None
    assert made["enabled_events"] == ["assignment.created", "assignment.extended"]
    assert made["status"] == "enabled"
    assert SECRET.fullmatch(made["secret"])


def test_every_endpoint_gets_its_own_secret(client, sandbox_key):
    first, second = endpoint(client, sandbox_key), endpoint(client, sandbox_key)
    assert first["secret"] != second["secret"]


def test_the_secret_is_shown_only_at_creation(client, sandbox_key):
    made = endpoint(client, sandbox_key, description="Payroll")
    shown = without_secret(made)
    assert ok(retrieve(client, sandbox_key, made["id"])) == shown
    assert ok(client.get(BASE, headers=bearer(sandbox_key))) == [shown]
    changed = ok(update(client, sandbox_key, made["id"], description="Payroll v2"))
    assert "secret" not in changed
    assert changed == {**shown, "description": "Payroll v2"}


def test_star_alone_enables_every_event_type(client, sandbox_key):
    assert endpoint(client, sandbox_key, enabled_events=["*"])["enabled_events"] == ["*"]


def test_an_endpoint_created_without_enabled_events_gets_every_event(client, sandbox_key):
    """As the official client libraries' READMEs create them: a url and a description."""
    response = client.post(
        BASE, json={"url": URL, "description": "payroll"}, headers=bearer(sandbox_key)
    )
    assert created(response)["enabled_events"] == ["*"]


@pytest.mark.parametrize(
    "enabled_events",
    [["*", "quote.created"], ["quote.created", "*"]],
    ids=["star-first", "star-last"],
)
def test_star_with_other_types_is_400(client, sandbox_key, enabled_events):
    response = create_endpoint(client, sandbox_key, enabled_events=enabled_events)
    assert_error(response, 400, "invalid_input", "enabled_events")
    made = endpoint(client, sandbox_key)
    response = update(client, sandbox_key, made["id"], enabled_events=enabled_events)
    assert_error(response, 400, "invalid_input", "enabled_events")
    assert ok(retrieve(client, sandbox_key, made["id"]))["enabled_events"] == ["*"]


@pytest.mark.parametrize(
    "enabled_events",
    [["quote.deleted"], ["contractor.created", "policy.renewed"], [], ["*", "*"]],
    ids=["unknown", "one-unknown", "empty", "repeated"],
)
def test_enabled_events_outside_the_enum_are_400(client, sandbox_key, enabled_events):
    response = create_endpoint(client, sandbox_key, enabled_events=enabled_events)
    body = assert_error(response, 400, "invalid_input")
    assert body["param"].startswith("enabled_events")
    assert listed(client, sandbox_key) == []


@pytest.mark.parametrize("url", ["ftp://x", "mailto:hooks@platform.example", "file:///etc/hosts"])
def test_a_url_that_is_not_http_or_https_is_400(client, sandbox_key, url):
    assert_error(create_endpoint(client, sandbox_key, url=url), 400, "invalid_input", "url")
    made = endpoint(client, sandbox_key)
    assert_error(update(client, sandbox_key, made["id"], url=url), 400, "invalid_input", "url")
    assert ok(retrieve(client, sandbox_key, made["id"]))["url"] == URL


@pytest.mark.parametrize("url", ["http://", "https:///hooks", "https:platform.example/hooks"])
def test_a_url_without_a_host_is_400(client, sandbox_key, url):
    """An http(s) URL with an empty host is invalid (RFC 9110, 4.2.1): nothing can be delivered
    there."""
    assert_error(create_endpoint(client, sandbox_key, url=url), 400, "invalid_input", "url")
    made = endpoint(client, sandbox_key)
    assert_error(update(client, sandbox_key, made["id"], url=url), 400, "invalid_input", "url")


INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hooks",
    "http://172.16.0.1/hooks",
    "http://192.168.0.10:8080/hooks",
    "http://100.64.0.1/hooks",
    "http://[fd00:ec2::254]/latest",
    "http://[::ffff:10.0.0.1]/hooks",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://0/hooks",
    "http://2852039166/latest",
]
LOOPBACK_URLS = [
    "http://127.0.0.1:5432/",
    "http://localhost:8000/hooks",
    "http://127.1/hooks",
    "http://2130706433/hooks",
    "http://0x7f000001/hooks",
    "http://[::1]:9000/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_a_url_into_the_servers_network_is_refused_at_create_and_update(client, sandbox_key, url):
    refused = assert_error(create_endpoint(client, sandbox_key, url=url), 400, "url_not_allowed")
    assert refused["param"] == "url" and "TEN99_WEBHOOK_TARGETS" in refused["message"]
    made = endpoint(client, sandbox_key)
    assert_error(update(client, sandbox_key, made["id"], url=url), 400, "url_not_allowed", "url")
    assert ok(retrieve(client, sandbox_key, made["id"]))["url"] == URL


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_this_machine_is_a_target_by_default_and_refused_by_deny(
    client, client_with, sandbox_key, url
):
    """A developer's local receiver is where sandbox deliveries usually go; `deny` is for a
    server that others use."""
    assert create_endpoint(client, sandbox_key, url=url).status_code == 201
    with client_with(webhook_targets=TargetPolicy.DENY) as denying:
        assert_error(create_endpoint(denying, sandbox_key, url=url), 400, "url_not_allowed", "url")


def test_allow_lets_any_address_be_a_target(client_with, sandbox_key):
    with client_with(webhook_targets=TargetPolicy.ALLOW) as allowing:
        for url in INTERNAL_URLS:
            assert create_endpoint(allowing, sandbox_key, url=url).status_code == 201


def test_the_target_policy_is_read_and_checked():
    assert settings_from({}).webhook_targets is TargetPolicy.LOOPBACK
    assert settings_from({"TEN99_WEBHOOK_TARGETS": "Deny"}).webhook_targets is (TargetPolicy.DENY)
    with pytest.raises(ValueError, match="TEN99_WEBHOOK_TARGETS"):
        settings_from({"TEN99_WEBHOOK_TARGETS": "sometimes"})


@pytest.mark.parametrize(
    "body",
    [
        {"enabled_events": ["*"]},
        {"url": URL, "enabled_events": ["*"], "status": "disabled"},
        {"url": URL, "enabled_events": ["*"], "secret": "whsec_" + "a" * 32},
        {"url": "", "enabled_events": ["*"]},
    ],
    ids=["no-url", "status-at-creation", "own-secret", "empty-url"],
)
def test_a_malformed_creation_is_400(client, sandbox_key, body):
    assert_error(client.post(BASE, json=body, headers=bearer(sandbox_key)), 400, "invalid_input")
    assert listed(client, sandbox_key) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("description", "d" * 501), ("url", "https://platform.example/" + "h" * 2048)],
)
def test_fields_over_their_length_are_400(client, sandbox_key, field, value):
    response = create_endpoint(client, sandbox_key, **{field: value})
    assert_error(response, 400, "invalid_input", field)


def test_a_replayed_creation_answers_the_same_endpoint_and_secret(client, sandbox_key):
    headers = bearer(sandbox_key, **{"Idempotency-Key": "hook-1"})
    body = {"url": URL, "enabled_events": ["*"]}
    first, retry = (client.post(BASE, json=body, headers=headers) for _ in range(2))
    assert created(retry) == created(first)
    assert retry.headers["Ten99Policy-Idempotent-Replayed"] == "true"
    assert listed(client, sandbox_key) == [first.json()["id"]]


def test_both_http_and_https_are_accepted(client, sandbox_key):
    made = endpoint(client, sandbox_key, url="http://localhost:8080/hooks")
    assert made["url"] == "http://localhost:8080/hooks"


# Update


def test_update_changes_only_the_fields_sent(client, sandbox_key):
    made = without_secret(endpoint(client, sandbox_key, description="Payroll"))
    new_url = "https://platform.example/hooks/v2"
    changed = ok(update(client, sandbox_key, made["id"], url=new_url))
    assert changed == {**made, "url": new_url}
    changed = ok(update(client, sandbox_key, made["id"], enabled_events=["policy.cancelled"]))
    chosen = ["policy.cancelled"]
    assert changed == {**made, "url": new_url, "enabled_events": chosen, "events": chosen}
    assert ok(retrieve(client, sandbox_key, made["id"])) == changed


def test_a_null_description_removes_it(client, sandbox_key):
    made = endpoint(client, sandbox_key, description="Payroll")
    assert ok(update(client, sandbox_key, made["id"], description=None))["description"] is None
    assert ok(retrieve(client, sandbox_key, made["id"]))["description"] is None


def test_an_endpoint_is_disabled_and_enabled_again(client, sandbox_key):
    made = endpoint(client, sandbox_key)
    assert ok(update(client, sandbox_key, made["id"], status="disabled"))["status"] == "disabled"
    assert ok(retrieve(client, sandbox_key, made["id"]))["status"] == "disabled"
    assert ok(update(client, sandbox_key, made["id"], status="enabled"))["status"] == "enabled"


@pytest.mark.parametrize(
    "body",
    [{"status": "paused"}, {"secret": "whsec_" + "a" * 32}, {"enabled_events": []}],
    ids=["unknown-status", "secret", "no-events"],
)
def test_a_malformed_update_is_400(client, sandbox_key, body):
    made = without_secret(endpoint(client, sandbox_key))
    response = client.put(f"{BASE}/{made['id']}", json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert ok(retrieve(client, sandbox_key, made["id"])) == made


# Delete, and unknown or foreign endpoints


def _every_operation_on(client, key, endpoint_id):
    return [
        retrieve(client, key, endpoint_id),
        update(client, key, endpoint_id, status="disabled"),
        client.get(f"{BASE}/{endpoint_id}/deliveries", headers=bearer(key)),
        delete(client, key, endpoint_id),
    ]


@pytest.mark.parametrize(
    "owner",
    [(Environment.SANDBOX, "acct_b"), (Environment.PRODUCTION, "acct_a")],
    ids=["other-account", "other-environment"],
)
def test_another_owners_endpoint_is_404_and_unlisted(client, sandbox_key, new_key, owner):
    owner_key = new_key(*owner)
    made = without_secret(endpoint(client, owner_key))
    for response in _every_operation_on(client, sandbox_key, made["id"]):
        assert_error(response, 404, "resource_not_found", "webhook_endpoint_id")
    assert listed(client, sandbox_key) == []
    assert ok(retrieve(client, owner_key, made["id"])) == made  # unchanged, undeleted


# Deliveries


@pytest.mark.storage
def test_each_event_the_endpoint_wants_gets_a_pending_delivery(client, route, sandbox_key):
    made = endpoint(client, sandbox_key)
    person = contractor(client, sandbox_key)
    rename(client, sandbox_key, person["id"], "Joanna")
    wanted = events(client, sandbox_key)
    assert [e["type"] for e in wanted] == ["contractor.updated", "contractor.created"]

    route()
    found = deliveries(client, sandbox_key, made["id"])
    assert [(d["event"], d["event_type"]) for d in found] == [(e["id"], e["type"]) for e in wanted]
    for delivery, event in zip(found, wanted, strict=True):
        assert re.fullmatch(r"whd_[A-Za-z0-9]+", delivery["id"])
        assert delivery["object"] == "webhook_delivery"
        assert delivery["webhook_endpoint"] == made["id"]
        assert delivery["status"] == "pending"
        assert delivery["attempts"] == []
        assert delivery["created"] == event["created"]
        assert delivery["next_attempt_at"] == event["created"]  # due at once


@pytest.mark.storage
def test_the_event_filter_keeps_the_delivery_of_one_event(client, route, sandbox_key, new_key):
    made = endpoint(client, sandbox_key)
    first, second = contractor(client, sandbox_key), contractor(client, sandbox_key)
    by_object = {e["data"]["object"]["id"]: e["id"] for e in events(client, sandbox_key)}
    route()
    for person in (first, second):
        event_id = by_object[person["id"]]
        found = deliveries(client, sandbox_key, made["id"], event=event_id)
        assert [d["event"] for d in found] == [event_id]
    # An event this endpoint was not sent has no delivery to it.
    other_key = new_key(account="acct_b")
    contractor(client, other_key)
    foreign = events(client, other_key)[0]["id"]
    route()
    assert deliveries(client, sandbox_key, made["id"], event=foreign) == []


def test_an_endpoint_gets_only_the_types_it_enables(client, route, sandbox_key):
    quotes_only = endpoint(client, sandbox_key, enabled_events=["quote.created"])
    everything = endpoint(client, sandbox_key)
    made = underwrite(client, sandbox_key)
    route()
    found = deliveries(client, sandbox_key, quotes_only["id"])
    assert [d["event_type"] for d in found] == ["quote.created"]
    quote_event = events(client, sandbox_key, type="quote.created")[0]
    assert quote_event["data"]["object"]["id"] == made["quote"]["id"]
    assert found[0]["event"] == quote_event["id"]
    # The other endpoint has its own delivery of every event, that one included.
    all_events = [e["id"] for e in events(client, sandbox_key)]
    assert [d["event"] for d in deliveries(client, sandbox_key, everything["id"])] == all_events
    assert found[0]["id"] not in {
        d["id"] for d in deliveries(client, sandbox_key, everything["id"])
    }


def test_a_disabled_endpoint_gets_no_deliveries_for_events_while_disabled(
    client, route, sandbox_key
):
    made = endpoint(client, sandbox_key)
    update(client, sandbox_key, made["id"], status="disabled")
    contractor(client, sandbox_key, first_name="Unseen")
    route()
    assert deliveries(client, sandbox_key, made["id"]) == []
    update(client, sandbox_key, made["id"], status="enabled")
    seen = contractor(client, sandbox_key, first_name="Seen")
    route()
    found = deliveries(client, sandbox_key, made["id"])
    assert [d["event"] for d in found] == [events(client, sandbox_key, limit=1)[0]["id"]]
    assert events(client, sandbox_key, limit=1)[0]["data"]["object"]["id"] == seen["id"]


def test_disabling_an_endpoint_keeps_its_queued_deliveries_pending(client, route, sandbox_key):
    made = endpoint(client, sandbox_key)
    contractor(client, sandbox_key)
    route()
    queued = deliveries(client, sandbox_key, made["id"])
    update(client, sandbox_key, made["id"], status="disabled")
    route()
    assert deliveries(client, sandbox_key, made["id"]) == queued
    assert queued[0]["status"] == "pending"


def test_an_event_not_yet_routed_when_its_endpoint_changes_goes_where_it_would_have(
    client, route, sandbox_key
):
    """Events are routed to endpoints after their request; a change to the endpoints routes
    the events before it first, to the endpoints as they were."""
    made = endpoint(client, sandbox_key)
    contractor(client, sandbox_key)
    update(client, sandbox_key, made["id"], status="disabled")
    narrowed = endpoint(client, sandbox_key)
    update(client, sandbox_key, narrowed["id"], enabled_events=["quote.created"])
    contractor(client, sandbox_key)
    route()
    [queued] = deliveries(client, sandbox_key, made["id"])
    assert queued["status"] == "pending" and queued["event_type"] == "contractor.created"
    assert deliveries(client, sandbox_key, narrowed["id"]) == []


def test_events_recorded_outside_a_request_are_delivered_too(
    client, route, sandbox_key, database, settings
):
    """The hosted page (no API key) and the worker record events for the owner."""
    wanted = ["application.complete", "assignment.extended"]
    made = endpoint(client, sandbox_key, enabled_events=wanted)
    quote = underwrite(client, sandbox_key)["quote"]
    body = {"quote": quote["id"]}
    headers = bearer(sandbox_key)
    session = created(client.post("/api/v1/apply/sessions", json=body, headers=headers))
    page = session["url"].removeprefix("http://testserver")
    assert client.post(f"{page}/accept", follow_redirects=False).status_code == 200
    job = quote["job"]
    assignment = {"contractor": quote["contractor"], "job": job, "coverage_type": ["general"]}
    assigned = created(client.post("/api/v1/assignments", json=assignment, headers=headers))
    worker.run_due(database, settings)
    extension = {"job_id": job, "end_date": assigned["end_date"] + DAY, "send_email": False}
    ok(client.post("/api/v1/assignments/extend", json=extension, headers=headers))
    worker.run_due(database, settings)
    route()
    found = deliveries(client, sandbox_key, made["id"])
    assert [d["event_type"] for d in found] == ["assignment.extended", "application.complete"]
    assert [d["event"] for d in found] == [
        events(client, sandbox_key, type=event_type)[0]["id"] for event_type in reversed(wanted)
    ]


def test_an_endpoint_gets_no_deliveries_of_another_owners_events(
    client, route, sandbox_key, new_key
):
    made = endpoint(client, sandbox_key)
    contractor(client, new_key(account="acct_b"))
    contractor(client, new_key(Environment.PRODUCTION))
    route()
    assert deliveries(client, sandbox_key, made["id"]) == []


def test_an_endpoint_gets_no_deliveries_of_events_before_it_existed(client, route, sandbox_key):
    contractor(client, sandbox_key)
    made = endpoint(client, sandbox_key)
    route()
    assert deliveries(client, sandbox_key, made["id"]) == []


def test_deleting_an_endpoint_removes_its_deliveries(client, route, sandbox_key, database):
    doomed, kept = endpoint(client, sandbox_key), endpoint(client, sandbox_key)
    contractor(client, sandbox_key)
    route()
    assert stored_deliveries(database, doomed["id"]) == 1
    ok(delete(client, sandbox_key, doomed["id"]))
    assert stored_deliveries(database, doomed["id"]) == 0
    response = client.get(f"{BASE}/{doomed['id']}/deliveries", headers=bearer(sandbox_key))
    assert_error(response, 404, "resource_not_found", "webhook_endpoint_id")
    # Another endpoint's deliveries of the same event stay.
    assert len(deliveries(client, sandbox_key, kept["id"])) == 1


# `events`, as the current reference names the list


def test_events_is_the_current_references_name_for_enabled_events(client, sandbox_key):
    body = {"url": URL, "events": ["assignment.cancelled", "policy.active"]}
    made = created(client.post(BASE, json=body, headers=bearer(sandbox_key)))
    assert made["events"] == made["enabled_events"] == body["events"]
    same = {"url": URL, "events": ["policy.active"], "enabled_events": ["policy.active"]}
    assert created(client.post(BASE, json=same, headers=bearer(sandbox_key)))["events"] == [
        "policy.active"
    ]
    changed = ok(update(client, sandbox_key, made["id"], events=["*"]))
    assert changed["events"] == changed["enabled_events"] == ["*"]
    assert ok(retrieve(client, sandbox_key, made["id"]))["events"] == ["*"]


def test_events_and_enabled_events_that_differ_are_a_400(client, sandbox_key):
    body = {"url": URL, "events": ["policy.active"], "enabled_events": ["policy.cancelled"]}
    assert_error(
        client.post(BASE, json=body, headers=bearer(sandbox_key)), 400, "invalid_input", "events"
    )
    made = endpoint(client, sandbox_key)
    response = update(
        client, sandbox_key, made["id"], events=["*"], enabled_events=["policy.active"]
    )
    assert_error(response, 400, "invalid_input", "events")
    assert ok(retrieve(client, sandbox_key, made["id"]))["enabled_events"] == ["*"]
