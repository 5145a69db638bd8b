"""Events: each change the Event table names records its event, whose `data.object` is what the
API answers for the object right after the change; listing, filtering and retrieving them; and
an event is recorded in the transaction of its change, so a refused change records none."""

from __future__ import annotations

import re

import pytest

from server import worker
from server.core.clock import now
from server.core.errors import InvalidRequest
from server.core.principals import Environment
from server.domain import policies as policy_service
from server.domain.terms import DAY
from server.store import assignments as assignment_rows
from tests.api.test_assignments import assign_to, extend
from tests.conftest import (
    assert_error,
    bearer,
    bind,
    created,
    new_contractor,
    new_job,
    underwrite,
)

BASE = "/api/v1"


def ok(response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


def events(client, key, **params) -> list[dict]:
    return ok(client.get(f"{BASE}/events", params=params, headers=bearer(key)))


def objects(client, key, event_type, after: str | None = None) -> list[dict]:
    """The `data.object` of each event of the type (recorded after the event `after`, if
    given), the most recent first."""
    if after is None:
        found = events(client, key, type=event_type, limit=100)
    else:  # a cursor must be in the list it pages: filter here
        found = events(client, key, ending_before=after, limit=100)
    return [e["data"]["object"] for e in found if e["type"] == event_type]


def only(client, key, event_type, after: str | None = None) -> dict:
    """The `data.object` of the one event of the type (recorded after the event `after`)."""
    found = objects(client, key, event_type, after)
    assert len(found) == 1, [o["id"] for o in found]
    return found[0]


def newest(client, key) -> str:
    """The id of the latest event, to read what a change records after it."""
    return events(client, key, limit=1)[0]["id"]


def types(client, key) -> list[str]:
    return [e["type"] for e in events(client, key, limit=100)]


def get(client, key, path) -> dict:
    return ok(client.get(f"{BASE}/{path}", headers=bearer(key)))


def put(client, key, path, **changes) -> dict:
    return ok(client.put(f"{BASE}/{path}", json=changes, headers=bearer(key)))


def delete(client, key, path) -> dict:
    return ok(client.delete(f"{BASE}/{path}", headers=bearer(key)))


def contractor(client, key, **fields) -> dict:
    body = new_contractor(**fields)
    return created(client.post(f"{BASE}/contractors", json=body, headers=bearer(key)))


@pytest.fixture
def run_tasks(database, settings):
    """Run the background work that is due, as the server's worker would."""
    return lambda: worker.run_due(database, settings)


@pytest.fixture
def covered(client, sandbox_key):
    """A contractor with an active general liability policy, and a second job of the same
    entity to assign them to."""
    made = underwrite(client, sandbox_key)
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    body = new_job(made["entity"]["id"], name="Night shift")
    made["job2"] = created(client.post(f"{BASE}/jobs", json=body, headers=bearer(sandbox_key)))
    return made


@pytest.fixture
def bound(client, sandbox_key, covered, run_tasks):
    """A bound assignment with its first certificates generated, beside what `covered` made."""
    made = created(assign_to(client, sandbox_key, covered, "job2"))
    run_tasks()
    return {**covered, "assignment": get(client, sandbox_key, f"assignments/{made['id']}")}


# The event object


@pytest.mark.storage
def test_an_event_names_its_type_and_carries_the_object(client, sandbox_key):
    person = contractor(client, sandbox_key)
    [event] = events(client, sandbox_key)
    assert re.fullmatch(r"evt_[A-Za-z0-9]+", event["id"])
    assert event["object"] == "event"
    assert event["type"] == "contractor.created"
    assert event["created"] == person["created"]
    assert event["data"] == {"object": person}


# Contractors


def test_contractor_created_carries_the_created_contractor(client, sandbox_key):
    person = contractor(client, sandbox_key)
    assert only(client, sandbox_key, "contractor.created") == person


def test_contractor_updated_carries_the_updated_contractor(client, sandbox_key):
    person = contractor(client, sandbox_key)
    changed = put(
        client,
        sandbox_key,
        f"contractors/{person['id']}",
        first_name="Joanna",
        custom_metadata={"team": "north"},
    )
    assert only(client, sandbox_key, "contractor.updated") == changed


def test_an_update_that_changes_nothing_records_no_event(client, sandbox_key):
    person = contractor(client, sandbox_key, custom_metadata={"team": "north"})
    same = put(
        client,
        sandbox_key,
        f"contractors/{person['id']}",
        first_name=person["first_name"],
        email=person["email"],
        custom_metadata={"team": "north", "gone": ""},  # sets what is set, unsets what is not
    )
    assert same == person
    assert objects(client, sandbox_key, "contractor.updated") == []


def test_a_replayed_creation_records_no_second_event(client, sandbox_key):
    headers = bearer(sandbox_key, **{"Idempotency-Key": "create-joe"})
    for _ in range(2):
        response = client.post(f"{BASE}/contractors", json=new_contractor(), headers=headers)
        assert response.status_code == 201, response.text
    assert only(client, sandbox_key, "contractor.created") == response.json()


def test_contractor_deleted_carries_the_deletion_confirmation(client, sandbox_key):
    person = contractor(client, sandbox_key)
    confirmation = delete(client, sandbox_key, f"contractors/{person['id']}")
    assert set(confirmation) == {"id", "object", "livemode", "deleted", "deleted_at"}
    assert only(client, sandbox_key, "contractor.deleted") == confirmation


# Quotes


def test_quote_created_carries_the_quote(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assert only(client, sandbox_key, "quote.created") == made["quote"]


def test_quote_updated_only_when_the_update_changes_it(client, sandbox_key):
    quote = underwrite(client, sandbox_key)["quote"]
    path = f"quotes/{quote['id']}"
    assert put(client, sandbox_key, path, coverage_type=quote["coverage_type"]) == quote
    assert objects(client, sandbox_key, "quote.updated") == []
    changed = put(client, sandbox_key, path, coverage_type=["general", "workers-comp"])
    assert only(client, sandbox_key, "quote.updated") == changed


# Policies


def test_binding_records_policy_created_then_policy_active(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    policy = bind(client, sandbox_key, made["quote"]["id"])
    assert policy["status"] == "active"
    assert only(client, sandbox_key, "policy.created") == policy
    assert only(client, sandbox_key, "policy.active") == policy
    assert types(client, sandbox_key)[:2] == ["policy.active", "policy.created"]


def test_policy_updated_for_new_dates(client, sandbox_key, covered):
    policy = covered["policy"]
    path = f"policies/{policy['id']}"
    same = put(client, sandbox_key, path, expiration_date=policy["expiration_date"])
    assert same == policy
    assert objects(client, sandbox_key, "policy.updated") == []
    changed = put(client, sandbox_key, path, expiration_date=policy["expiration_date"] - DAY)
    assert only(client, sandbox_key, "policy.updated") == changed


def test_policy_cancelled_by_an_update_then_reactivated(client, sandbox_key, covered):
    path = f"policies/{covered['policy']['id']}"
    cancelled = put(client, sandbox_key, path, is_active=False)
    assert cancelled["status"] == "cancelled"
    assert only(client, sandbox_key, "policy.cancelled") == cancelled
    assert objects(client, sandbox_key, "policy.updated") == []
    reactivated = put(client, sandbox_key, path, is_active=True)
    assert reactivated["status"] == "active"
    assert only(client, sandbox_key, "policy.reactivated") == reactivated
    # Reactivating is not binding: no second policy.active.
    assert len(objects(client, sandbox_key, "policy.active")) == 1


def test_policy_cancelled_when_the_policy_is_deleted(client, sandbox_key, covered):
    policy = covered["policy"]
    confirmation = delete(client, sandbox_key, f"policies/{policy['id']}")
    cancelled = only(client, sandbox_key, "policy.cancelled")
    # The policy as it was, cancelled, its document withdrawn.
    expected = {**policy, "status": "cancelled", "is_active": False, "pdf_url": None}
    assert cancelled == expected
    assert confirmation["id"] == policy["id"]


@pytest.mark.parametrize(
    ("owner", "collection"), [("contractor", "contractors"), ("entity", "entities")]
)
def test_policy_cancelled_with_its_contractor_or_entity(
    client, sandbox_key, covered, owner, collection
):
    delete(client, sandbox_key, f"{collection}/{covered[owner]['id']}")
    policy = get(client, sandbox_key, f"policies/{covered['policy']['id']}")
    assert policy["status"] == "cancelled"
    assert only(client, sandbox_key, "policy.cancelled") == policy


def test_deleting_a_contractor_records_its_deletion_and_its_policys_cancellation(
    client, sandbox_key, covered
):
    confirmation = delete(client, sandbox_key, f"contractors/{covered['contractor']['id']}")
    assert only(client, sandbox_key, "contractor.deleted") == confirmation
    assert only(client, sandbox_key, "policy.cancelled")["id"] == covered["policy"]["id"]


def test_a_cancelled_policy_is_not_cancelled_again(client, sandbox_key, covered):
    path = f"policies/{covered['policy']['id']}"
    put(client, sandbox_key, path, is_active=False)
    put(client, sandbox_key, path, is_active=False)
    delete(client, sandbox_key, path)
    assert len(objects(client, sandbox_key, "policy.cancelled")) == 1


# Application sessions


def open_session(client, key, quote_id) -> dict:
    body = {"quote": quote_id}
    return created(client.post(f"{BASE}/apply/sessions", json=body, headers=bearer(key)))


def test_application_created_carries_the_session(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    assert only(client, sandbox_key, "application.created") == session


def test_accepting_the_hosted_page_completes_the_application_and_binds(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    page = session["url"].removeprefix("http://testserver")
    assert client.post(f"{page}/accept", follow_redirects=False).status_code == 200
    complete = get(client, sandbox_key, f"apply/sessions/{session['id']}")
    assert complete["status"] == "complete"
    assert only(client, sandbox_key, "application.complete") == complete
    policy = get(client, sandbox_key, f"policies/{complete['policy']}")
    assert only(client, sandbox_key, "policy.created") == policy
    assert only(client, sandbox_key, "policy.active") == policy


def test_declining_the_hosted_page_records_nothing(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    before = events(client, sandbox_key)
    page = session["url"].removeprefix("http://testserver")
    assert client.post(f"{page}/decline", follow_redirects=False).status_code == 200
    assert events(client, sandbox_key) == before


# Assignments


def test_an_unbound_assignment_records_assignment_created_only(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    assert assignment["bind"] is False
    assert only(client, sandbox_key, "assignment.created") == assignment
    assert objects(client, sandbox_key, "assignment.active") == []


def test_a_binding_assignment_records_created_then_active(client, sandbox_key, covered):
    assignment = created(assign_to(client, sandbox_key, covered, "job2"))
    assert assignment["bind"] is True
    assert only(client, sandbox_key, "assignment.created") == assignment
    assert only(client, sandbox_key, "assignment.active") == assignment
    assert types(client, sandbox_key)[:2] == ["assignment.active", "assignment.created"]


def test_an_assignment_that_lengthens_the_policy_records_policy_updated(
    client, sandbox_key, covered
):
    end = covered["policy"]["expiration_date"] + 20 * DAY
    created(
        assign_to(client, sandbox_key, covered, "job2", effective_date=now() + DAY, end_date=end)
    )
    lengthened = get(client, sandbox_key, f"policies/{covered['policy']['id']}")
    assert lengthened["expiration_date"] == end
    assert only(client, sandbox_key, "policy.updated") == lengthened


def test_assignment_updated_only_when_the_update_changes_it(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    path = f"assignments/{assignment['id']}"
    assert put(client, sandbox_key, path, end_date=assignment["end_date"]) == assignment
    assert objects(client, sandbox_key, "assignment.updated") == []
    changed = put(client, sandbox_key, path, end_date=assignment["end_date"] - DAY)
    assert only(client, sandbox_key, "assignment.updated") == changed


def test_an_update_that_binds_records_updated_and_active(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    bind(client, sandbox_key, made["quote"]["id"])
    path = f"assignments/{assignment['id']}"
    changed = put(client, sandbox_key, path, end_date=assignment["end_date"] - DAY)
    assert changed["bind"] is True
    assert only(client, sandbox_key, "assignment.updated") == changed
    assert only(client, sandbox_key, "assignment.active") == changed


def test_a_no_op_update_of_a_bound_assignment_records_nothing(client, sandbox_key, bound):
    assignment = bound["assignment"]
    before = events(client, sandbox_key)
    path = f"assignments/{assignment['id']}"
    unchanged = {name: assignment[name] for name in ("end_date", "coverage_type")}
    same = put(client, sandbox_key, path, **unchanged)
    assert same == assignment
    assert events(client, sandbox_key) == before


def test_deleting_a_bound_assignment_records_cancelled_and_deleted(client, sandbox_key, bound):
    assignment = bound["assignment"]
    confirmation = delete(client, sandbox_key, f"assignments/{assignment['id']}")
    assert set(confirmation) == {"id", "object", "livemode", "deleted", "deleted_at"}
    assert only(client, sandbox_key, "assignment.deleted") == confirmation
    # The assignment as it was, its certificates withdrawn.
    voided = {**assignment, "certificates": {}, "certificate_refresh_pending": False}
    assert only(client, sandbox_key, "assignment.cancelled") == voided
    assert types(client, sandbox_key)[:2] == ["assignment.deleted", "assignment.cancelled"]


def test_deleting_an_unbound_assignment_records_deleted_only(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    confirmation = delete(client, sandbox_key, f"assignments/{assignment['id']}")
    assert only(client, sandbox_key, "assignment.deleted") == confirmation
    assert objects(client, sandbox_key, "assignment.cancelled") == []


# The ways a policy is cancelled: (method, path of what is changed or deleted, body).
CANCELLATIONS = {
    "update": ("PUT", "policies/{policy}", {"is_active": False}),
    "policy-deleted": ("DELETE", "policies/{policy}", None),
    "contractor-deleted": ("DELETE", "contractors/{contractor}", None),
    "entity-deleted": ("DELETE", "entities/{entity}", None),
}


@pytest.mark.parametrize("how", CANCELLATIONS)
def test_cancelling_the_policy_cancels_its_bound_assignment(client, sandbox_key, bound, how):
    method, path, body = CANCELLATIONS[how]
    path = path.format(**{name: bound[name]["id"] for name in ("policy", "contractor", "entity")})
    response = client.request(method, f"{BASE}/{path}", json=body, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assignment = get(client, sandbox_key, f"assignments/{bound['assignment']['id']}")
    assert only(client, sandbox_key, "assignment.cancelled") == assignment


def test_reactivating_the_policy_activates_its_bound_assignment_again(client, sandbox_key, bound):
    policy_path = f"policies/{bound['policy']['id']}"
    put(client, sandbox_key, policy_path, is_active=False)
    put(client, sandbox_key, policy_path, is_active=True)
    active = objects(client, sandbox_key, "assignment.active")
    assert len(active) == 2  # binding, then reactivation
    assert active[0] == get(client, sandbox_key, f"assignments/{bound['assignment']['id']}")


def test_a_voided_assignment_is_not_cancelled_or_activated_with_its_policy(
    client, sandbox_key, bound
):
    delete(client, sandbox_key, f"assignments/{bound['assignment']['id']}")
    policy_path = f"policies/{bound['policy']['id']}"
    put(client, sandbox_key, policy_path, is_active=False)
    put(client, sandbox_key, policy_path, is_active=True)
    assert len(objects(client, sandbox_key, "assignment.cancelled")) == 1  # the voiding's
    assert len(objects(client, sandbox_key, "assignment.active")) == 1  # the binding's


@pytest.mark.storage
def test_assignment_extended_is_recorded_once_the_certificates_are_regenerated(
    client, sandbox_key, bound, run_tasks
):
    assignment = bound["assignment"]
    path = f"assignments/{assignment['id']}"
    response = extend(
        client, sandbox_key, assignment["job"], assignment["end_date"] + DAY, send_email=False
    )
    assert response.status_code == 200, response.text
    assert objects(client, sandbox_key, "assignment.extended") == []
    assert run_tasks() == 2  # the certificates, and the lengthened policy's document
    fresh = get(client, sandbox_key, path)
    assert fresh["certificates"] != assignment["certificates"]
    assert only(client, sandbox_key, "assignment.extended") == fresh

    extend(client, sandbox_key, assignment["job"], assignment["end_date"] + 2 * DAY)
    run_tasks()
    extended = objects(client, sandbox_key, "assignment.extended")
    assert len(extended) == 2
    assert extended[0] == get(client, sandbox_key, path)


@pytest.mark.storage
def test_an_assignment_voided_before_its_regeneration_records_no_extension(
    client, sandbox_key, bound, run_tasks
):
    assignment = bound["assignment"]
    extend(client, sandbox_key, assignment["job"], assignment["end_date"] + DAY, send_email=False)
    delete(client, sandbox_key, f"assignments/{assignment['id']}")
    run_tasks()
    assert objects(client, sandbox_key, "assignment.extended") == []


def test_generating_the_first_certificates_records_no_extension(client, sandbox_key, bound):
    assert bound["assignment"]["certificates"]  # generated by the worker
    assert objects(client, sandbox_key, "assignment.extended") == []


def test_an_extension_that_lengthens_the_policy_records_policy_updated(client, sandbox_key, bound):
    # Binding may have lengthened the policy already, by the second between quote and
    # assignment: read what the extension records.
    before = newest(client, sandbox_key)
    policy = get(client, sandbox_key, f"policies/{bound['policy']['id']}")
    new_end = policy["expiration_date"] + 30 * DAY
    response = extend(client, sandbox_key, bound["assignment"]["job"], new_end, send_email=False)
    assert response.status_code == 200, response.text
    moved = get(client, sandbox_key, f"policies/{policy['id']}")
    assert moved["expiration_date"] == new_end
    assert only(client, sandbox_key, "policy.updated", after=before) == moved


# Listing and retrieving


def three_events(client, key) -> list[str]:
    """The ids of three new events, the most recent first."""
    for name in ("Ann", "Bea", "Cy"):
        contractor(client, key, first_name=name)
    return [e["id"] for e in events(client, key)]


def ids(client, key, **params) -> list[str]:
    return [e["id"] for e in events(client, key, **params)]


def test_the_type_filter_keeps_one_type(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assert set(types(client, sandbox_key)) == {"contractor.created", "quote.created"}
    [quote] = events(client, sandbox_key, type="quote.created")
    assert quote["data"]["object"]["id"] == made["quote"]["id"]
    assert events(client, sandbox_key, type="policy.created") == []


@pytest.mark.storage
def test_the_type_filter_with_a_cursor(client, sandbox_key):
    third, second, first = three_events(client, sandbox_key)
    underwrite(client, sandbox_key)  # a fourth contractor.created, and a quote.created
    found = ids(client, sandbox_key, type="contractor.created", starting_after=third)
    assert found == [second, first]


@pytest.mark.parametrize("value", ["contractor.exploded", "*", "", "CONTRACTOR.CREATED"])
def test_an_unknown_type_is_400(client, sandbox_key, value):
    response = client.get(f"{BASE}/events", params={"type": value}, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", "type")


def test_retrieve_answers_the_listed_event(client, sandbox_key):
    contractor(client, sandbox_key)
    [listed] = events(client, sandbox_key)
    assert get(client, sandbox_key, f"events/{listed['id']}") == listed


def test_an_id_that_is_no_event_id_is_400(client, sandbox_key):
    contractor_id = contractor(client, sandbox_key)["id"]
    response = client.get(f"{BASE}/events/{contractor_id}", headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", "event_id")


@pytest.mark.parametrize(
    "owner",
    [(Environment.SANDBOX, "acct_b"), (Environment.PRODUCTION, "acct_a")],
    ids=["other-account", "other-environment"],
)
def test_another_owners_events_are_invisible(client, sandbox_key, new_key, owner):
    owner_key = new_key(*owner)
    contractor(client, owner_key)
    [theirs] = events(client, owner_key)
    response = client.get(f"{BASE}/events/{theirs['id']}", headers=bearer(sandbox_key))
    assert_error(response, 404, "resource_not_found", "event_id")
    assert events(client, sandbox_key) == []
    response = client.get(
        f"{BASE}/events", params={"starting_after": theirs["id"]}, headers=bearer(sandbox_key)
    )
    assert_error(response, 404, "resource_not_found", "starting_after")


@pytest.mark.storage
def test_events_older_than_30_days_are_gone(client, sandbox_key, sandbox_clock):
    start = sandbox_clock.start()
    old = contractor(client, sandbox_key)
    [old_event] = [e for e in events(client, sandbox_key) if e["data"]["object"]["id"] == old["id"]]
    sandbox_clock.advance(start + DAY)
    recent = contractor(client, sandbox_key)
    sandbox_clock.advance(start + 31 * DAY)
    assert [e["data"]["object"]["id"] for e in events(client, sandbox_key)] == [recent["id"]]
    response = client.get(f"{BASE}/events/{old_event['id']}", headers=bearer(sandbox_key))
    assert_error(response, 404, "resource_not_found", "event_id")


# A refused change records nothing


@pytest.mark.storage
def test_refused_changes_record_no_event(client, sandbox_key, bound):
    before = events(client, sandbox_key, limit=100)
    assignment, quote, headers = bound["assignment"], bound["quote"], bearer(sandbox_key)
    for code, response in [
        (
            "invalid_input",
            client.post(f"{BASE}/contractors", json=new_contractor(email="nope"), headers=headers),
        ),
        (
            "policy_already_exists",
            client.post(f"{BASE}/policies", json={"quote": quote["id"]}, headers=headers),
        ),
        (
            "assignment_is_bound",
            client.put(
                f"{BASE}/assignments/{assignment['id']}",
                json={"coverage_type": ["general", "workers-comp"]},
                headers=headers,
            ),
        ),
        (
            "cannot_shorten_coverage",
            extend(client, sandbox_key, assignment["job"], assignment["end_date"] - 1),
        ),
        (
            "cant_update_create_new_quote",
            client.put(
                f"{BASE}/quotes/{quote['id']}",
                json={"coverage_type": ["general", "workers-comp"]},
                headers=headers,
            ),
        ),
    ]:
        assert_error(response, 400, code)
    assert events(client, sandbox_key, limit=100) == before


def endpoint(client, key) -> str:
    """A webhook endpoint for every event type: each event recorded queues a delivery to it."""
    body = {"url": "https://platform.example/hooks", "enabled_events": ["*"]}
    return created(client.post(f"{BASE}/webhook_endpoints", json=body, headers=bearer(key)))["id"]


def deliveries(client, key, endpoint_id) -> list[dict]:
    return get(client, key, f"webhook_endpoints/{endpoint_id}/deliveries")


@pytest.mark.storage
def test_a_request_refused_after_recording_an_event_leaves_none(
    client, sandbox_key, covered, monkeypatch
):
    """Binding lengthens the policy and records policy.updated (and its delivery) before the
    assignment is inserted; a concurrent assignment to the job, found at the insert, refuses
    the request, and the policy's new end goes with its event."""
    policy = covered["policy"]
    hook = endpoint(client, sandbox_key)

    def taken(*args, **kwargs):
        raise assignment_rows.JobHasAssignment

    monkeypatch.setattr(assignment_rows.AssignmentRepository, "add", taken)
    end = policy["expiration_date"] + 20 * DAY
    response = assign_to(
        client, sandbox_key, covered, "job2", effective_date=now() + DAY, end_date=end
    )
    assert_error(response, 400, "job_has_assignment")
    assert objects(client, sandbox_key, "policy.updated") == []
    assert deliveries(client, sandbox_key, hook) == []
    assert get(client, sandbox_key, f"policies/{policy['id']}") == policy


@pytest.mark.storage
def test_a_contractor_deletion_refused_midway_leaves_no_event(
    client, sandbox_key, covered, monkeypatch
):
    """contractor.deleted is recorded (with its delivery) before the contractor's policies are
    cancelled; a refusal there rolls the deletion and its event back."""

    def refuse(*args, **kwargs):
        raise InvalidRequest("The policies cannot be cancelled now.", code="policy_not_updatable")

    hook = endpoint(client, sandbox_key)
    monkeypatch.setattr(policy_service, "cancel_contractor_policies", refuse)
    path = f"contractors/{covered['contractor']['id']}"
    response = client.delete(f"{BASE}/{path}", headers=bearer(sandbox_key))
    assert_error(response, 400, "policy_not_updatable")
    assert objects(client, sandbox_key, "contractor.deleted") == []
    assert deliveries(client, sandbox_key, hook) == []
    assert get(client, sandbox_key, path) == covered["contractor"]
