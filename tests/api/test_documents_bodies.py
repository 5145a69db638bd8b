"""Bodies as the reference documents' curl examples send them: a numeric `postalcode`, and an
operation that takes no body sent its parameters as a JSON object (a list's `limit`, a delete's
id). The replay of the documents' flow is tests/api/test_documents_flow.py; these pin the
rules around it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_error, bearer, created, new_contractor, new_entity, new_job

BASE = "/api/v1"


@pytest.fixture
def send(client, sandbox_key):
    def request(method: str, path: str, body, content_type: str = "application/json"):
        headers = {**bearer(sandbox_key), "Content-Type": content_type}
        content = body if isinstance(body, str) else json.dumps(body)
        return client.request(method, f"{BASE}{path}", content=content, headers=headers)

    return request


def test_a_numeric_postalcode_is_stored_as_its_five_digits(client, sandbox_key):
    key = bearer(sandbox_key)
    address = {"line1": "1 Main St", "locality": "Boston", "postalcode": 2134, "region": "MA"}
    contractor = created(
        client.post(f"{BASE}/contractors", json=new_contractor(address=address), headers=key)
    )
    assert contractor["address"]["postalcode"] == "02134"
    entity = created(client.post(f"{BASE}/entities", json=new_entity(address=address), headers=key))
    job_address = {"postalcode": 94104, "region": "CA"}
    job = created(
        client.post(f"{BASE}/jobs", json=new_job(entity["id"], address=job_address), headers=key)
    )
    assert (entity["address"]["postalcode"], job["address"]["postalcode"]) == ("02134", "94104")

    moved = {**address, "postalcode": 94114}
    updated = client.put(
        f"{BASE}/contractors/{contractor['id']}", json={"address": moved}, headers=key
    )
    assert updated.json()["address"]["postalcode"] == "94114"
    again = client.get(f"{BASE}/contractors/{contractor['id']}", headers=key)
    assert again.json()["address"]["postalcode"] == "94114"


@pytest.mark.parametrize("postalcode", [-1, 100000, 941.04, True])
def test_a_postalcode_number_that_is_no_zip_code_is_refused(client, sandbox_key, postalcode):
    address = {"line1": "1 Main St", "locality": "Boston", "postalcode": postalcode, "region": "MA"}
    response = client.post(
        f"{BASE}/contractors", json=new_contractor(address=address), headers=bearer(sandbox_key)
    )
    assert_error(response, 400, "invalid_input", "address.postalcode")


def test_a_list_takes_limit_and_cursors_from_a_json_body(client, sandbox_key, send):
    made = [
        created(
            client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(sandbox_key))
        )
        for _ in range(12)
    ]
    newest_first = [c["id"] for c in reversed(made)]
    listed = send("GET", "/contractors", {"limit": 11})
    assert [c["id"] for c in listed.json()] == newest_first[:11]
    after = send("GET", "/contractors", {"limit": "2", "starting_after": newest_first[0]})
    assert [c["id"] for c in after.json()] == newest_first[1:3]
    # The same value in the query string and the body is no conflict.
    both = send("GET", "/contractors?limit=3", {"limit": 3})
    assert len(both.json()) == 3


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 5, "colour": "red"}, "colour"),
        ({"contractor": "cn_x"}, "contractor"),
    ],
)
def test_a_list_refuses_a_body_parameter_it_does_not_take(send, body, param):
    assert_error(send("GET", "/contractors", body), 400, "invalid_input", param)


def test_a_body_parameter_must_agree_with_the_query_and_the_path(client, sandbox_key, send):
    assert_error(send("GET", "/contractors?limit=3", {"limit": 4}), 400, "invalid_input", "limit")
    contractor = created(
        client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(sandbox_key))
    )
    path = f"/contractors/{contractor['id']}"
    assert_error(
        send("DELETE", path, {"contractor": "cn_other"}), 400, "invalid_input", "contractor"
    )
    assert client.get(f"{BASE}{path}", headers=bearer(sandbox_key)).status_code == 200
    deleted = send("DELETE", path, {"contractor_id": contractor["id"]})
    assert deleted.status_code == 200, deleted.text
    assert client.get(f"{BASE}{path}", headers=bearer(sandbox_key)).status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("[25]", "application/json", "invalid_input"),
        ('{"limit": ', "application/json", "bad_request"),
        ("limit=25", "application/x-www-form-urlencoded", "unsupported_media_type"),
    ],
)
def test_a_body_that_is_no_json_object_of_parameters_is_refused(send, body, content_type, code):
    assert_error(send("GET", "/contractors", body, content_type), 400, code)


def test_an_empty_or_null_body_is_no_parameters(send):
    for body in ("", "null", "  "):
        assert send("GET", "/contractors", body).status_code == 200
