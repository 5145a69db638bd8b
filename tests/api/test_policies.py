"""Policies: binding a quote, status, cancellation by deletes, and the policy document."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pypdf
import pytest

from server.core.clock import now
from server.pdf.policy import format_date
from server.store import policies as store_policies
from tests.conftest import assert_error, bearer, bind, underwrite

BASE = "/api/v1"
DAY = 86400


def pdf_text(client, url: str) -> str:
    """Fetch a policy document by its URL, without an API key, and return its text."""
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def put(client, key, policy_id, body):
    return client.put(f"{BASE}/policies/{policy_id}", json=body, headers=bearer(key))


def get(client, key, policy_id):
    return client.get(f"{BASE}/policies/{policy_id}", headers=bearer(key))


def issued(client, key, policy_id, run_tasks) -> dict:
    """The policy once the worker has issued its document (requests never render one)."""
    run_tasks()
    policy = get(client, key, policy_id).json()
    assert policy["pdf_url"] is not None
    return policy


def test_a_policy_binds_an_eligible_quote_with_the_quotes_dates(client, sandbox_key):
    quote = underwrite(client, sandbox_key)["quote"]
    policy = bind(client, sandbox_key, quote["id"])
    assert policy["object"] == "policy" and policy["id"].startswith("pl_")
    assert policy["quote"] == quote["id"]
    assert policy["effective_date"] == quote["effective_date"]
    assert policy["expiration_date"] == quote["end_date"]
    assert (policy["status"], policy["is_active"]) == ("active", True)
    assert get(client, sandbox_key, policy["id"]).json() == policy


def test_given_dates_are_kept_and_checked(client, sandbox_key):
    at = now()
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    past = client.post(
        f"{BASE}/policies",
        json={"quote": quote_id, "effective_date": at - DAY},
        headers=bearer(sandbox_key),
    )
    assert_error(past, 400, "effective_date_invalid", "effective_date")
    backwards = client.post(
        f"{BASE}/policies",
        json={"quote": quote_id, "effective_date": at + 5 * DAY, "expiration_date": at + DAY},
        headers=bearer(sandbox_key),
    )
    assert_error(backwards, 400, "expiration_date_invalid", "expiration_date")
    policy = bind(
        client, sandbox_key, quote_id, effective_date=at + 2 * DAY, expiration_date=at + 9 * DAY
    )
    assert (policy["effective_date"], policy["expiration_date"]) == (at + 2 * DAY, at + 9 * DAY)


def test_an_unknown_quote_is_404_invalid_quote_id(client, sandbox_key, new_key):
    unknown = client.post(
        f"{BASE}/policies", json={"quote": "qt_Nope123"}, headers=bearer(sandbox_key)
    )
    assert_error(unknown, 404, "invalid_quote_id", "quote")
    others = underwrite(client, new_key(account="acct_b"))["quote"]["id"]
    foreign = client.post(f"{BASE}/policies", json={"quote": others}, headers=bearer(sandbox_key))
    assert_error(foreign, 404, "invalid_quote_id", "quote")


def test_an_ineligible_quote_is_refused_with_its_eligibility_message(client, sandbox_key):
    quote = underwrite(
        client,
        sandbox_key,
        job={"address": {"region": "OH", "postalcode": "43004"}},
        quote={"coverage_type": ["general", "workers-comp"]},
    )["quote"]
    assert quote["eligible"] is False
    refused = client.post(
        f"{BASE}/policies", json={"quote": quote["id"]}, headers=bearer(sandbox_key)
    )
    body = assert_error(refused, 400, "quote_not_eligible", "quote")
    assert quote["eligibility_message"] in body["message"]
    assert client.get(f"{BASE}/policies", headers=bearer(sandbox_key)).json() == []


@pytest.mark.storage
def test_one_policy_per_quote_even_after_deleting_it(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    policy = bind(client, sandbox_key, quote_id)
    again = client.post(f"{BASE}/policies", json={"quote": quote_id}, headers=bearer(sandbox_key))
    assert_error(again, 400, "policy_already_exists", "quote")
    client.delete(f"{BASE}/policies/{policy['id']}", headers=bearer(sandbox_key))
    after = client.post(f"{BASE}/policies", json={"quote": quote_id}, headers=bearer(sandbox_key))
    assert_error(after, 400, "policy_already_exists", "quote")


@pytest.mark.storage
def test_racing_binds_of_one_quote_make_one_policy(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]

    def attempt(_):
        return client.post(
            f"{BASE}/policies", json={"quote": quote_id}, headers=bearer(sandbox_key)
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(attempt, range(4)))
    assert statuses == [201, 400, 400, 400]
    assert len(client.get(f"{BASE}/policies", headers=bearer(sandbox_key)).json()) == 1


def test_a_quote_whose_contractor_or_job_is_gone_cannot_be_bound(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    client.delete(f"{BASE}/contractors/{made['contractor']['id']}", headers=bearer(sandbox_key))
    refused = client.post(
        f"{BASE}/policies", json={"quote": made["quote"]["id"]}, headers=bearer(sandbox_key)
    )
    body = assert_error(refused, 400, "invalid_quote_id", "quote")
    assert made["contractor"]["id"] in body["message"]

    made = underwrite(client, sandbox_key)
    client.delete(f"{BASE}/jobs/{made['job']['id']}", headers=bearer(sandbox_key))
    refused = client.post(
        f"{BASE}/policies", json={"quote": made["quote"]["id"]}, headers=bearer(sandbox_key)
    )
    assert made["job"]["id"] in assert_error(refused, 400, "invalid_quote_id")["message"]


def test_is_active_switches_between_active_and_cancelled(client, sandbox_key):
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    off = put(client, sandbox_key, policy["id"], {"is_active": False})
    assert off.status_code == 200, off.text
    assert (off.json()["status"], off.json()["is_active"]) == ("cancelled", False)
    on = put(client, sandbox_key, policy["id"], {"is_active": True})
    assert (on.json()["status"], on.json()["is_active"]) == ("active", True)
    assert get(client, sandbox_key, policy["id"]).json()["status"] == "active"


def test_dates_change_with_the_rules_of_creation(client, sandbox_key):
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    later = policy["expiration_date"] + 10 * DAY
    changed = put(client, sandbox_key, policy["id"], {"expiration_date": later})
    assert changed.json()["expiration_date"] == later
    backwards = put(
        client, sandbox_key, policy["id"], {"expiration_date": policy["effective_date"]}
    )
    assert_error(backwards, 400, "expiration_date_invalid", "expiration_date")
    past = put(client, sandbox_key, policy["id"], {"effective_date": now() - DAY})
    assert_error(past, 400, "effective_date_invalid", "effective_date")
    assert get(client, sandbox_key, policy["id"]).json()["expiration_date"] == later


def test_a_policy_past_its_expiration_reads_expired_and_cannot_change(
    client, sandbox_key, run_tasks, sandbox_clock
):
    sandbox_clock.start()
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    policy = issued(client, sandbox_key, policy["id"], run_tasks)
    sandbox_clock.advance(policy["expiration_date"] + DAY)
    read = get(client, sandbox_key, policy["id"]).json()
    assert (read["status"], read["is_active"]) == ("expired", False)
    # The worker issued the document again when the policy expired.
    assert read["pdf_url"] != policy["pdf_url"]
    ended = format_date(policy["expiration_date"])
    assert f"EXPIRED on {ended} (UTC): the policy period ended" in pdf_text(client, read["pdf_url"])
    later = sandbox_clock.now + 30 * DAY
    for change in ({"is_active": True}, {"expiration_date": later}):
        refused = put(client, sandbox_key, policy["id"], change)
        assert_error(refused, 400, "policy_not_updatable")
    assert get(client, sandbox_key, policy["id"]).json()["status"] == "expired"


def test_a_cancelled_policy_past_its_expiration_cannot_be_reactivated(
    client, sandbox_key, sandbox_clock
):
    sandbox_clock.start()
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    put(client, sandbox_key, policy["id"], {"is_active": False})
    sandbox_clock.advance(policy["expiration_date"] + DAY)
    refused = put(client, sandbox_key, policy["id"], {"is_active": True})
    assert_error(refused, 400, "policy_not_updatable")


def test_a_policy_of_a_deleted_contractor_cannot_be_reactivated(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    policy = bind(client, sandbox_key, made["quote"]["id"])
    client.delete(f"{BASE}/contractors/{made['contractor']['id']}", headers=bearer(sandbox_key))
    refused = put(client, sandbox_key, policy["id"], {"is_active": True})
    assert made["contractor"]["id"] in assert_error(refused, 400, "policy_not_updatable")["message"]


@pytest.mark.storage
def test_deleting_a_contractor_cancels_only_its_policies(client, sandbox_key, run_tasks):
    mine, other = underwrite(client, sandbox_key), underwrite(client, sandbox_key)
    doomed = bind(client, sandbox_key, mine["quote"]["id"])
    spared = bind(client, sandbox_key, other["quote"]["id"])
    deleted = client.delete(
        f"{BASE}/contractors/{mine['contractor']['id']}", headers=bearer(sandbox_key)
    )
    assert deleted.status_code == 200
    cancelled = issued(client, sandbox_key, doomed["id"], run_tasks)
    assert (cancelled["status"], cancelled["is_active"]) == ("cancelled", False)
    why = f"CANCELLED on {format_date(now())} (UTC): the insured contractor was deleted"
    assert why in pdf_text(client, cancelled["pdf_url"])
    assert get(client, sandbox_key, spared["id"]).json()["status"] == "active"


def test_deleting_a_policy_cancels_it_and_answers_the_deleted_object(
    client, sandbox_key, run_tasks
):
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    policy = issued(client, sandbox_key, policy["id"], run_tasks)
    response = client.delete(f"{BASE}/policies/{policy['id']}", headers=bearer(sandbox_key))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == policy["id"] and body["object"] == "policy" and body["deleted"] is True
    assert abs(body["deleted_at"] - now()) < 60
    assert_error(get(client, sandbox_key, policy["id"]), 404, "resource_not_found")
    # Its document is gone with it, and the coverage no longer counts as in force.
    assert client.get(policy["pdf_url"].removeprefix("http://testserver")).status_code == 404
    again = client.delete(f"{BASE}/policies/{policy['id']}", headers=bearer(sandbox_key))
    assert_error(again, 404, "resource_not_found")


def test_the_policy_document_states_the_policy(client, sandbox_key, run_tasks):
    made = underwrite(
        client,
        sandbox_key,
        contractor={"first_name": "Dana", "last_name": "Scully"},
        entity={
            "name": "Mulder Motors",
            "coverage_limit": {"aggregate_limit": 300000000, "occurrence_limit": 150000000},
        },
        quote={"coverage_type": ["general", "workers-comp"]},
    )
    policy = bind(client, sandbox_key, made["quote"]["id"])
    assert policy["pdf_url"] is None  # until the worker has issued it
    text = pdf_text(client, issued(client, sandbox_key, policy["id"], run_tasks)["pdf_url"])
    for expected in (
        policy["id"],
        "ACTIVE",
        "Dana Scully",
        "Mulder Motors",
        made["job"]["name"],
        "General liability",
        "Workers' compensation",
        "$1,500,000",
        "$3,000,000",
        format_date(policy["effective_date"]),
        format_date(policy["expiration_date"]),
    ):
        assert expected in text, expected


@pytest.mark.storage
def test_the_document_url_is_a_capability_that_changes_with_the_status(
    client, sandbox_key, run_tasks
):
    policy = bind(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    first = issued(client, sandbox_key, policy["id"], run_tasks)["pdf_url"]
    token = first.rsplit("/", 1)[1]
    assert len(token) >= 40  # 256 random bits
    response = client.get(first.removeprefix("http://testserver"))  # no API key
    assert response.headers["cache-control"] == "private, no-store"
    assert client.get("/files/" + token[:-1] + "x").status_code == 404

    cancelled = put(client, sandbox_key, policy["id"], {"is_active": False}).json()
    assert cancelled["pdf_url"] == first, "the old document until the new one is issued"
    cancelled = issued(client, sandbox_key, policy["id"], run_tasks)
    assert cancelled["pdf_url"] != first
    assert client.get(first.removeprefix("http://testserver")).status_code == 404
    why = f"CANCELLED on {format_date(now())} (UTC): cancelled through the API"
    assert why in pdf_text(client, cancelled["pdf_url"])
    # Reactivated, it is active again, and says so.
    put(client, sandbox_key, policy["id"], {"is_active": True})
    text = pdf_text(client, issued(client, sandbox_key, policy["id"], run_tasks)["pdf_url"])
    assert "ACTIVE" in text and "CANCELLED" not in text
    put(client, sandbox_key, policy["id"], {"is_active": False})
    cancelled = issued(client, sandbox_key, policy["id"], run_tasks)
    # An update that changes nothing keeps the document.
    same = put(client, sandbox_key, policy["id"], {"is_active": False}).json()
    assert same["pdf_url"] == cancelled["pdf_url"]


def test_the_policy_of_a_name_in_any_script_prints_it(client, sandbox_key, run_tasks):
    made = underwrite(
        client, sandbox_key, contractor={"first_name": "Łukasz", "last_name": "Wróbel 李"}
    )
    policy = bind(client, sandbox_key, made["quote"]["id"])
    text = pdf_text(client, issued(client, sandbox_key, policy["id"], run_tasks)["pdf_url"])
    assert "Łukasz Wróbel 李" in text


def test_the_public_url_setting_names_the_host_of_document_links(
    client_with, sandbox_key, run_tasks
):
    with client_with(public_url="https://sandbox.example") as other:
        policy = bind(other, sandbox_key, underwrite(other, sandbox_key)["quote"]["id"])
        policy = issued(other, sandbox_key, policy["id"], run_tasks)
    assert policy["pdf_url"].startswith("https://sandbox.example/files/")


@pytest.mark.storage
def test_a_bind_that_loses_the_race_at_the_database_is_policy_already_exists(
    client, sandbox_key, monkeypatch
):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    bind(client, sandbox_key, quote_id)
    # As if the other request committed between this one's check and its insert.
    monkeypatch.setattr(
        store_policies.PolicyRepository, "quote_is_bound", lambda self, quote_id: False
    )
    late = client.post(f"{BASE}/policies", json={"quote": quote_id}, headers=bearer(sandbox_key))
    assert_error(late, 400, "policy_already_exists", "quote")
