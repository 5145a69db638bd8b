"""Application sessions: creating, listing and retrieving them through the API, and the hosted
page (`/apply/<id>`, no API key) on which the contractor accepts or declines the coverage."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urljoin

import pytest

from tests.conftest import assert_error, bearer, bind, underwrite

BASE = "/api/v1"
URL = f"{BASE}/apply/sessions"
DAY = 86400
SUCCESS = "https://jobs.example/1099policy/success"
CANCEL = "https://jobs.example/1099policy/cancel"
QUOTE = object()  # stands for the id of a quote the test makes
# Workers' compensation in a monopolistic-fund state: rated, but not eligible.
IN_OHIO = {"address": {"region": "OH", "postalcode": "43004"}}


def post(client, key: str, body: dict):
    return client.post(URL, json=body, headers=bearer(key))


def open_session(client, key: str, quote_id: str, **urls) -> dict:
    response = post(client, key, {"quote": quote_id, **urls})
    assert response.status_code == 201, response.text
    return response.json()


def retrieve(client, key: str, session_id: str) -> dict:
    response = client.get(f"{URL}/{session_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def policies(client, key: str) -> list[dict]:
    response = client.get(f"{BASE}/policies", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def page_path(session: dict) -> str:
    return session["url"].removeprefix("http://testserver")


def text(response) -> str:
    """The page's markup with its entities decoded ("Workers' compensation" is escaped)."""
    return html.unescape(response.text)


def rate(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d} per $100 earned"


def error_code(response) -> str | None:
    found = re.search(r'data-error-code="([^"]*)"', response.text)
    return found and found.group(1)


def assert_page(response, status: int) -> str:
    """The hosted page answered with this status, as HTML, with its protective headers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["referrer-policy"] == "no-referrer"
    return text(response)


# --- Create -----------------------------------------------------------------------------------


@pytest.mark.storage
def test_a_session_opens_for_an_eligible_quote(client, sandbox_key, sandbox_clock):
    quote = underwrite(client, sandbox_key)["quote"]
    at = sandbox_clock.start()
    session = open_session(client, sandbox_key, quote["id"], success_url=SUCCESS, cancel_url=CANCEL)
    assert re.fullmatch(r"ias_[A-Za-z0-9]{32}", session["id"]), session["id"]
    assert session["object"] == "application_session"
    assert session["quote"] == quote["id"]
    assert (session["success_url"], session["cancel_url"]) == (SUCCESS, CANCEL)
    assert session["created"] == at
    assert session["expires_at"] == at + DAY
    assert (session["status"], session["policy"]) == ("open", None)
    assert session["url"] == f"http://testserver/apply/{session['id']}"
    assert retrieve(client, sandbox_key, session["id"]) == session
    # No policy is bound until the contractor accepts.
    assert policies(client, sandbox_key) == []


def test_urls_left_out_are_null_and_ids_differ(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    first = open_session(client, sandbox_key, quote_id)
    assert (first["success_url"], first["cancel_url"]) == (None, None)
    assert first["expires_at"] - first["created"] == DAY
    second = open_session(client, sandbox_key, quote_id, cancel_url=CANCEL)
    assert second["id"] != first["id"]
    assert (second["success_url"], second["cancel_url"]) == (None, CANCEL)


def test_expires_at_is_24_hours_after_created_even_when_the_clock_ticks(
    client, sandbox_key, wall_clock
):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    wall_clock.step = 1  # every reading a second later than the one before
    session = open_session(client, sandbox_key, quote_id)
    assert session["expires_at"] == session["created"] + DAY


def test_without_a_public_url_the_session_url_is_on_the_requests_host(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    response = client.post(
        f"https://api.example:8443{URL}", json={"quote": quote_id}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["url"] == f"https://api.example:8443/apply/{session['id']}"


def test_the_public_url_setting_names_the_host_of_the_session_url(client_with, sandbox_key):
    with client_with(public_url="https://sandbox.example") as other:
        quote_id = underwrite(other, sandbox_key)["quote"]["id"]
        session = open_session(other, sandbox_key, quote_id)
    assert session["url"] == f"https://sandbox.example/apply/{session['id']}"


def test_an_unknown_or_foreign_quote_is_404_invalid_quote_id(client, sandbox_key, new_key):
    unknown = post(client, sandbox_key, {"quote": "qt_Nope123"})
    assert_error(unknown, 404, "invalid_quote_id", "quote")
    others = underwrite(client, new_key(account="acct_b"))["quote"]["id"]
    assert_error(post(client, sandbox_key, {"quote": others}), 404, "invalid_quote_id", "quote")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_an_ineligible_quote_is_400_quote_not_eligible(client, sandbox_key):
    quote = underwrite(client, sandbox_key, job=IN_OHIO, quote={"coverage_type": ["workers-comp"]})[
        "quote"
    ]
    assert quote["eligible"] is False
    body = assert_error(
        post(client, sandbox_key, {"quote": quote["id"]}), 400, "quote_not_eligible", "quote"
    )
    assert quote["eligibility_message"] in body["message"]
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_a_bound_quote_is_400_policy_already_exists(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    bind(client, sandbox_key, quote_id)
    refused = post(client, sandbox_key, {"quote": quote_id})
    assert_error(refused, 400, "policy_already_exists", "quote")


def test_a_quote_whose_contractor_is_gone_is_400_invalid_quote_id(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    deleted = client.delete(
        f"{BASE}/contractors/{made['contractor']['id']}", headers=bearer(sandbox_key)
    )
    assert deleted.status_code == 200, deleted.text
    refused = post(client, sandbox_key, {"quote": made["quote"]["id"]})
    body = assert_error(refused, 400, "invalid_quote_id", "quote")
    assert made["contractor"]["id"] in body["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "quote"),
        ({"success_url": SUCCESS}, "quote"),
        ({"quote": 7}, "quote"),
        ({"quote": "not-a-quote-id"}, "quote"),
        ({"quote": QUOTE, "cancel_url": "https://ok.example/" + "a" * 2048}, "cancel_url"),
        ({"quote": QUOTE, "success_url": 12}, "success_url"),
        ({"quote": QUOTE, "unexpected": 1}, None),
    ],
    ids=["empty", "no-quote", "quote-number", "quote-pattern", "long-url", "url-number", "extra"],
)
def test_a_malformed_request_is_400(client, sandbox_key, body, param):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    body = {name: quote_id if value is QUOTE else value for name, value in body.items()}
    assert_error(post(client, sandbox_key, body), 400, "invalid_input", param)
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
@pytest.mark.parametrize(
    "value", ["not a url", "/relative/path", "javascript:alert(document.domain)", "ftp://x/y"]
)
def test_a_url_that_is_no_uri_is_400(client, sandbox_key, field, value):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    response = post(client, sandbox_key, {"quote": quote_id, field: value})
    assert_error(response, 400, "invalid_input", field)


# --- List and retrieve ------------------------------------------------------------------------


def test_retrieve_is_404_for_unknown_and_foreign_sessions(client, sandbox_key, new_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    assert retrieve(client, sandbox_key, session["id"])["id"] == session["id"]
    unknown = client.get(f"{URL}/ias_{'x' * 32}", headers=bearer(sandbox_key))
    assert_error(unknown, 404, "resource_not_found")
    foreign = client.get(f"{URL}/{session['id']}", headers=bearer(new_key(account="acct_b")))
    assert_error(foreign, 404, "resource_not_found")


# --- The hosted page ----------------------------------------------------------------------------


def test_the_page_shows_the_application_without_an_api_key(client, sandbox_key):
    made = underwrite(
        client,
        sandbox_key,
        contractor={"first_name": "Dana", "last_name": "Scully"},
        entity={"name": "Mulder Motors"},
        job={"name": "Roadside mechanic"},
        quote={"coverage_type": ["general", "workers-comp"]},
    )
    quote = made["quote"]
    session = open_session(client, sandbox_key, quote["id"], cancel_url=CANCEL)
    response = client.get(page_path(session))
    page = assert_page(response, 200)
    assert response.headers["x-frame-options"] == "DENY"
    assert error_code(response) is None
    for expected in ("Dana Scully", "Mulder Motors", "Roadside mechanic"):
        assert expected in page, expected
    gl, wc = quote["quote_json"]["gl"]["net_rate"], quote["quote_json"]["wc"]["net_rate"]
    assert f"General liability</th><td>{rate(gl)}</td>" in page
    assert f"Workers' compensation</th><td>{rate(wc)}</td>" in page
    assert quote["net_rate"] == gl + wc
    assert f'<td id="rate">{rate(quote["net_rate"])}</td>' in page
    assert 'id="accept"' in page and 'id="decline"' in page
    # The forms post to this session's accept and decline.
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert [urljoin(session["url"], a) for a in actions] == [
        session["url"] + "/accept",
        session["url"] + "/decline",
    ]


def test_an_unknown_session_page_is_a_404_page(client):
    for response in (
        client.get(f"/apply/ias_{'x' * 32}"),
        client.post(f"/apply/ias_{'x' * 32}/accept", follow_redirects=False),
        client.post(f"/apply/ias_{'x' * 32}/decline", follow_redirects=False),
    ):
        page = assert_page(response, 404)
        assert error_code(response) == "resource_not_found"
        assert 'id="accept"' not in page


def test_accept_binds_the_policy_completes_the_session_and_redirects(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    session = open_session(client, sandbox_key, quote_id, success_url=SUCCESS, cancel_url=CANCEL)
    accepted = client.post(page_path(session) + "/accept", follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == SUCCESS
    assert "no-store" in accepted.headers["cache-control"]

    done = retrieve(client, sandbox_key, session["id"])
    assert done["status"] == "complete"
    assert re.fullmatch(r"pl_[A-Za-z0-9]+", done["policy"] or "")
    policy = client.get(f"{BASE}/policies/{done['policy']}", headers=bearer(sandbox_key)).json()
    assert policy["quote"] == quote_id
    assert (policy["status"], policy["is_active"]) == ("active", True)
    assert [p["id"] for p in policies(client, sandbox_key)] == [done["policy"]]

    # A second Accept (a double click) is the success it was: back to the platform, nothing
    # more bound. A later visit shows the outcome, with the way back.
    again = client.post(page_path(session) + "/accept", follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, SUCCESS)
    later = client.get(page_path(session))
    page = assert_page(later, 200)
    assert error_code(later) == "complete"
    assert done["policy"] in page
    assert 'id="accept"' not in page
    assert f'id="back" href="{SUCCESS}"' in page
    assert retrieve(client, sandbox_key, session["id"]) == done
    assert len(policies(client, sandbox_key)) == 1
    # And the API can no longer open a session for the bound quote.
    assert_error(post(client, sandbox_key, {"quote": quote_id}), 400, "policy_already_exists")


def test_accept_without_a_success_url_answers_a_page_naming_the_policy(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    response = client.post(page_path(session) + "/accept", follow_redirects=False)
    page = assert_page(response, 200)
    assert error_code(response) == "complete"
    policy_id = retrieve(client, sandbox_key, session["id"])["policy"]
    assert policy_id and policy_id in page
    assert [p["id"] for p in policies(client, sandbox_key)] == [policy_id]
    # The second Accept shows the same outcome.
    again = client.post(page_path(session) + "/accept", follow_redirects=False)
    assert policy_id in assert_page(again, 200)
    assert error_code(again) == "complete"
    assert [p["id"] for p in policies(client, sandbox_key)] == [policy_id]


def test_decline_redirects_to_the_cancel_url_and_leaves_the_session_open(client, sandbox_key):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    session = open_session(client, sandbox_key, quote_id, success_url=SUCCESS, cancel_url=CANCEL)
    declined = client.post(page_path(session) + "/decline", follow_redirects=False)
    assert declined.status_code == 303, declined.text
    assert declined.headers["location"] == CANCEL
    assert retrieve(client, sandbox_key, session["id"]) == session
    assert policies(client, sandbox_key) == []
    # Still open: the contractor may come back and accept.
    accepted = client.post(page_path(session) + "/accept", follow_redirects=False)
    assert (accepted.status_code, accepted.headers["location"]) == (303, SUCCESS)


def test_decline_without_a_cancel_url_answers_a_page(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    response = client.post(page_path(session) + "/decline", follow_redirects=False)
    assert_page(response, 200)
    assert error_code(response) == "declined"
    assert retrieve(client, sandbox_key, session["id"])["status"] == "open"


def test_a_session_expires_24_hours_after_its_creation(client, sandbox_key, sandbox_clock):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    sandbox_clock.start()
    session = open_session(client, sandbox_key, quote_id, success_url=SUCCESS, cancel_url=CANCEL)

    sandbox_clock.advance(session["expires_at"] - 1)
    assert retrieve(client, sandbox_key, session["id"])["status"] == "open"
    assert_page(client.get(page_path(session)), 200)

    sandbox_clock.advance(session["expires_at"])
    assert retrieve(client, sandbox_key, session["id"])["status"] == "expired"
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert [s["status"] for s in listed] == ["expired"]
    for response in (
        client.get(page_path(session)),
        client.post(page_path(session) + "/accept", follow_redirects=False),
    ):
        page = assert_page(response, 410)
        assert error_code(response) == "session_expired"
        assert 'id="accept"' not in page
        assert f'id="back" href="{CANCEL}"' in page
    expired = retrieve(client, sandbox_key, session["id"])
    assert (expired["status"], expired["policy"]) == ("expired", None)
    assert policies(client, sandbox_key) == []


def test_a_quote_made_ineligible_after_the_session_cannot_be_accepted(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    session = open_session(
        client, sandbox_key, made["quote"]["id"], success_url=SUCCESS, cancel_url=CANCEL
    )
    in_ohio = client.post(
        f"{BASE}/jobs",
        json={**_job_body(made["job"]), **IN_OHIO},
        headers=bearer(sandbox_key),
    )
    assert in_ohio.status_code == 201, in_ohio.text
    changed = client.put(
        f"{BASE}/quotes/{made['quote']['id']}",
        json={"job": in_ohio.json()["id"], "coverage_type": ["workers-comp"]},
        headers=bearer(sandbox_key),
    )
    assert changed.status_code == 200, changed.text
    quote = changed.json()
    assert quote["eligible"] is False

    for response in (
        client.get(page_path(session)),
        client.post(page_path(session) + "/accept", follow_redirects=False),
    ):
        page = assert_page(response, 400)
        assert error_code(response) == "quote_not_eligible"
        assert quote["eligibility_message"] in page
        assert 'id="accept"' not in page
        assert f'id="back" href="{CANCEL}"' in page
    assert retrieve(client, sandbox_key, session["id"])["status"] == "open"
    assert policies(client, sandbox_key) == []


def test_a_deleted_entity_refuses_the_session_naming_it(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    session = open_session(client, sandbox_key, made["quote"]["id"], cancel_url=CANCEL)
    entity_id = made["entity"]["id"]
    deleted = client.delete(f"{BASE}/entities/{entity_id}", headers=bearer(sandbox_key))
    assert deleted.status_code == 200, deleted.text

    for response in (
        client.get(page_path(session)),
        client.post(page_path(session) + "/accept", follow_redirects=False),
    ):
        page = assert_page(response, 400)
        assert error_code(response) == "invalid_quote_id"
        assert entity_id in page
        assert 'id="accept"' not in page
        assert f'id="back" href="{CANCEL}"' in page
    assert retrieve(client, sandbox_key, session["id"])["policy"] is None
    assert policies(client, sandbox_key) == []


def _job_body(job: dict) -> dict:
    """A creation body for a job like this one."""
    fields = ("name", "description", "entity", "category_code", "wage", "wage_type")
    return {name: job[name] for name in fields}


def test_an_acceptance_after_the_quotes_period_ended_says_why(client, sandbox_key, sandbox_clock):
    # An hour before midnight (UTC): a period that ends on the next day is kept as given.
    at = sandbox_clock.start((int(time.time()) // DAY + 1) * DAY - 3600)
    # Coverage for two hours, starting in a minute: over before the session lapses.
    made = underwrite(client, sandbox_key, quote={"effective_date": at + 60, "end_date": at + 7200})
    session = open_session(client, sandbox_key, made["quote"]["id"], cancel_url=CANCEL)
    sandbox_clock.advance(at + 7200)
    response = client.post(page_path(session) + "/accept", follow_redirects=False)
    page = assert_page(response, 400)
    assert error_code(response) == "expiration_date_invalid"
    assert 'id="accept"' not in page
    assert policies(client, sandbox_key) == []


# --- Update -----------------------------------------------------------------------------------


def put(client, key: str, session_id: str, body: dict):
    return client.put(f"{URL}/{session_id}", json=body, headers=bearer(key))


def test_an_open_sessions_urls_change_and_null_removes_one(client, sandbox_key):
    """What the client libraries' session update sends: the two URLs."""
    quote = underwrite(client, sandbox_key)["quote"]["id"]
    session = open_session(client, sandbox_key, quote, success_url=SUCCESS, cancel_url=CANCEL)
    response = put(client, sandbox_key, session["id"], {"success_url": SUCCESS + "/v2"})
    assert response.status_code == 200, response.text
    assert response.json()["success_url"] == SUCCESS + "/v2"
    assert response.json()["cancel_url"] == CANCEL
    cleared = put(client, sandbox_key, session["id"], {"cancel_url": None})
    assert cleared.json()["cancel_url"] is None
    assert retrieve(client, sandbox_key, session["id"]) == cleared.json()


def test_a_completed_or_expired_session_cannot_change(client, sandbox_key, sandbox_clock):
    sandbox_clock.start()
    quote = underwrite(client, sandbox_key)["quote"]["id"]
    session = open_session(client, sandbox_key, quote, success_url=SUCCESS)
    client.post(page_path(session) + "/accept", follow_redirects=False)
    response = put(client, sandbox_key, session["id"], {"success_url": CANCEL})
    assert_error(response, 400, "application_already_complete")

    other = underwrite(client, sandbox_key)["quote"]["id"]
    later = open_session(client, sandbox_key, other)
    sandbox_clock.advance(later["expires_at"])
    assert_error(
        put(client, sandbox_key, later["id"], {"success_url": SUCCESS}), 400, "session_expired"
    )
    assert retrieve(client, sandbox_key, session["id"])["success_url"] == SUCCESS


@pytest.mark.parametrize(
    "body", [{"success_url": "ftp://x"}, {"quote": "qt_other"}, {"success_url": "not a url"}]
)
def test_a_bad_update_is_400_and_changes_nothing(client, sandbox_key, body):
    quote = underwrite(client, sandbox_key)["quote"]["id"]
    session = open_session(client, sandbox_key, quote, success_url=SUCCESS)
    assert_error(put(client, sandbox_key, session["id"], body), 400, "invalid_input")
    assert retrieve(client, sandbox_key, session["id"])["success_url"] == SUCCESS


# --- Events of the page: started, ineligible, manual review --------------------------------


def event_types(client, key: str, object_id: str) -> list[str]:
    """The types of the events about the object, oldest first."""
    listed = client.get(f"{BASE}/events?limit=100", headers=bearer(key)).json()
    return [e["type"] for e in reversed(listed) if e["data"]["object"]["id"] == object_id]


def test_opening_the_page_starts_the_application_once(client, sandbox_key):
    session = open_session(client, sandbox_key, underwrite(client, sandbox_key)["quote"]["id"])
    assert event_types(client, sandbox_key, session["id"]) == ["application.created"]
    for _ in range(2):
        assert_page(client.get(page_path(session)), 200)
    assert event_types(client, sandbox_key, session["id"]) == [
        "application.created",
        "application.started",
    ]


def test_a_page_that_finds_its_quote_ineligible_announces_it_once(client, sandbox_key):
    made = underwrite(client, sandbox_key, entity={"required_coverage": []})
    session = open_session(client, sandbox_key, made["quote"]["id"])
    assert_page(client.get(page_path(session)), 200)  # started while eligible
    # The entity now requires workers' comp, which the quote leaves out.
    entity_url = f"{BASE}/entities/{made['entity']['id']}"
    changed = client.put(
        entity_url, json={"required_coverage": ["workers-comp"]}, headers=bearer(sandbox_key)
    )
    assert changed.status_code == 200, changed.text
    requote = client.put(
        f"{BASE}/quotes/{made['quote']['id']}", json={}, headers=bearer(sandbox_key)
    )
    assert requote.json()["eligible"] is False, requote.text
    for _ in range(2):
        response = client.get(page_path(session))
        assert_page(response, 400)
        assert error_code(response) == "quote_not_eligible"
    assert event_types(client, sandbox_key, session["id"]) == [
        "application.created",
        "application.started",
        "application.ineligible",
    ]


@pytest.mark.storage
def test_claims_reported_send_the_application_to_review_and_its_approval_binds(
    client, sandbox_key, sandbox_clock
):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    at = sandbox_clock.start()
    session = open_session(client, sandbox_key, quote_id, success_url=SUCCESS)
    assert 'name="claims"' in assert_page(client.get(page_path(session)), 200)

    reviewed = client.post(
        page_path(session) + "/accept", data={"claims": "yes"}, follow_redirects=False
    )
    assert "manual review" in assert_page(reviewed, 200)
    assert error_code(reviewed) == "in_review"
    waiting = client.get(page_path(session))
    assert_page(waiting, 409)
    assert error_code(waiting) == "application_in_review"
    assert retrieve(client, sandbox_key, session["id"])["status"] == "open"
    assert policies(client, sandbox_key) == []

    sandbox_clock.advance(at + 3600 - 1)
    assert policies(client, sandbox_key) == []
    sandbox_clock.advance(at + 3600)
    completed = retrieve(client, sandbox_key, session["id"])
    assert completed["status"] == "complete"
    assert [p["id"] for p in policies(client, sandbox_key)] == [completed["policy"]]
    assert event_types(client, sandbox_key, session["id"]) == [
        "application.created",
        "application.started",
        "application.manual_review",
        "application.manual_review_approved",
        "application.complete",
    ]


def test_a_review_lasts_past_the_sessions_expiry(client, sandbox_key, sandbox_clock):
    quote_id = underwrite(client, sandbox_key)["quote"]["id"]
    sandbox_clock.start()
    session = open_session(client, sandbox_key, quote_id)
    sandbox_clock.advance(session["expires_at"] - 60)  # a minute before it lapses
    client.post(page_path(session) + "/accept", data={"claims": "yes"}, follow_redirects=False)
    sandbox_clock.advance(session["expires_at"] + 60)
    assert retrieve(client, sandbox_key, session["id"])["status"] == "open"
    sandbox_clock.advance(session["expires_at"] - 60 + 3600)
    assert retrieve(client, sandbox_key, session["id"])["status"] == "complete"
    assert "application.expired" not in event_types(client, sandbox_key, session["id"])
