"""Authentication, and the flat error shape for every error, connexion's own included."""

from __future__ import annotations

import pytest
import yaml

import server.api.events
from server.app import create_app
from server.contract.spec import SAFE_LOADER, load_spec, spec_path
from tests.conftest import assert_error, basic, bearer

URL = "/api/v1/contractors"


def test_bearer_and_basic_both_carry_the_key(client, sandbox_key):
    assert client.get(URL, headers=bearer(sandbox_key)).status_code == 200
    assert client.get(URL, headers=basic(sandbox_key)).status_code == 200
    # The documents' own example sends the bare key after "Basic".
    assert client.get(URL, headers={"Authorization": f"Basic {sandbox_key}"}).status_code == 200


def test_no_credentials_is_401(client):
    assert_error(client.get(URL), 401, "invalid_api_key")


@pytest.mark.parametrize(
    "headers",
    [
        bearer("t9k_test_unknown"),
        basic("t9k_test_unknown"),
        {"Authorization": "Basic !!!not-base64"},
        bearer(""),
    ],
)
def test_an_unknown_key_is_401_invalid_api_key(client, headers):
    assert_error(client.get(URL, headers=headers), 401, "invalid_api_key")


@pytest.mark.parametrize(
    ("content_type", "content", "code"),
    [
        ("application/json", b'{"first_name": ', "bad_request"),
        ("application/json", b"\xff\xfe{}", "bad_request"),
        ("application/json; charset=klingon", b"\xff{", "bad_request"),
    ],
    ids=["not-json", "not-utf8", "unknown-charset"],
)
def test_a_malformed_body_is_400_not_500(client, sandbox_key, content_type, content, code):
    headers = bearer(sandbox_key, **{"Content-Type": content_type})
    assert_error(client.post(URL, content=content, headers=headers), 400, code)


def test_a_body_in_another_media_type_is_400(client, sandbox_key):
    headers = bearer(sandbox_key, **{"Content-Type": "text/plain"})
    body = assert_error(
        client.post(URL, content=b"hello", headers=headers), 400, "unsupported_media_type"
    )
    assert body["param"] == "Content-Type"


def test_deeply_nested_json_is_400_not_500(client, sandbox_key):
    nested = "[" * 100_000 + "]" * 100_000
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    assert_error(client.post(URL, content=nested.encode(), headers=headers), 400, "bad_request")


def test_a_missing_body_is_400(client, sandbox_key):
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    assert_error(client.post(URL, headers=headers), 400, "invalid_input")


def test_invalid_parameters_name_the_parameter(client, sandbox_key):
    body = assert_error(
        client.get(URL, params={"limit": 101}, headers=bearer(sandbox_key)), 400, "invalid_input"
    )
    assert body["param"] == "limit"
    body = assert_error(
        client.get(f"{URL}/nope", headers=bearer(sandbox_key)), 400, "invalid_input"
    )
    assert body["param"] == "contractor_id"
    headers = bearer(sandbox_key, **{"Ten99Policy-Environment": "staging"})
    body = assert_error(client.get(URL, headers=headers), 400, "invalid_input")
    assert body["param"] == "Ten99Policy-Environment"
    body = assert_error(
        client.get(URL, params={"page": 2}, headers=bearer(sandbox_key)), 400, "invalid_input"
    )
    assert body["param"] == "page"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", URL, "GET, POST"),
        ("DELETE", URL, "GET, POST"),
        ("POST", f"{URL}/cn_abc", "DELETE, GET, PUT"),
        # Not an update of an assignment whose id would be "extend".
        ("PUT", "/api/v1/assignments/extend", "POST"),
        ("DELETE", "/api/v1/assignments/extend", "POST"),
    ],
)
def test_a_wrong_method_is_405_naming_every_allowed_method(
    client, sandbox_key, method, path, allowed
):
    response = client.request(method, path, headers=bearer(sandbox_key))
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/nothing", "/api/v1/contractors/cn_a/b"])
def test_an_unknown_path_is_404_in_the_error_shape(client, sandbox_key, path):
    assert_error(client.get(path, headers=bearer(sandbox_key)), 404, "resource_not_found")


def test_every_response_carries_a_distinct_request_id(client, sandbox_key):
    responses = [
        client.get(URL, headers=bearer(sandbox_key)),
        client.get(URL),
        client.get("/nothing"),
        client.patch(URL, headers=bearer(sandbox_key)),
        client.get(f"{URL}/cn_missing", headers=bearer(sandbox_key)),
    ]
    ids = [r.headers["request-id"] for r in responses]
    assert all(i.startswith("req_") for i in ids)
    assert len(set(ids)) == len(ids)


def test_an_operation_without_its_handler_answers_501(client, settings, sandbox_key, monkeypatch):
    """Every operation has its handler now: take one away and build a fresh app, which answers
    501 for that operation. The app the other tests share resolved its handlers when it was
    built (the `client` fixture built it), so it still answers."""
    monkeypatch.delattr(server.api.events, "list_events")
    with create_app(settings).test_client() as fresh:
        response = fresh.get("/api/v1/events", headers=bearer(sandbox_key))
        assert_error(response, 501, "not_implemented")
        assert response.headers["request-id"].startswith("req_")
        assert fresh.get(URL, headers=bearer(sandbox_key)).status_code == 200
    assert client.get("/api/v1/events", headers=bearer(sandbox_key)).status_code == 200


def test_swagger_ui_and_the_spec_are_served(client):
    ui = client.get("/api/v1/ui/")
    assert ui.status_code == 200 and "swagger" in ui.text.lower()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["paths"].keys() == load_spec()["paths"].keys()


def test_building_an_app_leaves_the_parsed_contract_as_the_file_says(client):
    """connexion is handed the process's parsed openapi.yaml, which the request path's layers
    read too: it must change only copies of it (`client`'s app is built by now)."""
    assert load_spec() == yaml.load(spec_path().read_text(), Loader=SAFE_LOADER)
