"""Limits on input (body size, string length, nesting, unknown fields, U+0000, lone surrogates)
and per-key rate limits, in the error shape."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from server.app import create_app
from server.core.settings import SettingsError
from server.middleware.validation import MAX_BODY_BYTES
from server.store.tables import contractors
from tests.conftest import assert_error, bearer, new_contractor, settings_from
from tests.spec_examples import OPERATIONS, example_body, unknown_path

URL = "/api/v1/contractors"


def stored_contractors(database) -> int:
    with database.transaction() as session:
        return session.execute(select(func.count()).select_from(contractors)).scalar_one()


def test_a_body_over_1_mib_is_413(client, sandbox_key, database):
    padding = "x" * MAX_BODY_BYTES
    response = client.post(
        URL, json=new_contractor(custom_metadata={"pad": padding}), headers=bearer(sandbox_key)
    )
    assert_error(response, 413, "request_too_large")
    assert "request-id" in response.headers
    assert stored_contractors(database) == 0


def _chunked(body: bytes, size: int = 65536):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_1_mib_is_413(client, sandbox_key, database):
    body = b'{"first_name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    response = client.post(URL, content=_chunked(body), headers=headers)
    assert_error(response, 413, "request_too_large")
    assert stored_contractors(database) == 0


def test_a_chunked_body_within_the_limit_is_read(client, sandbox_key):
    body = json.dumps(new_contractor(first_name="Chunk")).encode()
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    response = client.post(URL, content=_chunked(body, 16), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["first_name"] == "Chunk"


def test_a_body_just_under_the_limit_is_judged_on_its_content(client, sandbox_key):
    body = new_contractor(middle_name="y" * 101)
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", "middle_name")


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"first_name": "J" * 101}, "first_name"),
        ({"custom_metadata": {"note": "n" * 501}}, "custom_metadata.note"),
        ({"address": {**new_contractor()["address"], "line1": "l" * 201}}, "address.line1"),
        ({"nickname": "Jo"}, None),
        ({"address": {**new_contractor()["address"], "floor": 3}}, None),
    ],
    ids=[
        "name-too-long",
        "metadata-too-long",
        "address-line-too-long",
        "unknown",
        "unknown-nested",
    ],
)
def test_long_strings_and_unknown_fields_are_400(client, sandbox_key, database, overrides, param):
    response = client.post(URL, json=new_contractor(**overrides), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", param)
    assert stored_contractors(database) == 0


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"first_name": "Jo\u0000e"}, "first_name"),
        ({"custom_metadata": {"note": "a\u0000"}}, "custom_metadata.note"),
    ],
    ids=["field", "metadata-value"],
)
def test_a_nul_character_is_400(client, sandbox_key, database, overrides, param):
    response = client.post(URL, json=new_contractor(**overrides), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", param)
    assert stored_contractors(database) == 0


def _string_fields(value: object, path: tuple = ()) -> Iterator[tuple]:
    """The path of every string in a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _string_fields(item, (*path, key))


def _with(body: dict, path: tuple, value: object) -> dict:
    changed = copy.deepcopy(body)
    *parents, last = path
    target = changed
    for key in parents:
        target = target[key]
    target[last] = value
    return changed


BODY_OPERATIONS = [
    op for op in OPERATIONS if list(_string_fields(example_body(op.path, op.method.lower())))
]


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_lone_surrogate_in_any_string_of_any_body_is_400(client, sandbox_key, operation):
    """JSON can escape half a surrogate pair (`\\ud800`), which is no character: no database
    stores it and no JSON encoder answers it. Each string of the operation's example, in turn,
    holds one; ids name nothing, since the body is judged first."""
    body = example_body(operation.path, operation.method.lower())
    url = "/api/v1" + unknown_path(operation.path)
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    for field in _string_fields(body):
        # json.dumps escapes what is not ASCII, so the surrogate travels as `\ud800`.
        content = json.dumps(_with(body, field, "half \ud800 a pair"))
        response = client.request(operation.method, url, content=content, headers=headers)
        error = assert_error(response, 400, "invalid_input", ".".join(map(str, field)))
        assert "surrogate" in error["message"]


@pytest.mark.parametrize("key", ["\udc00", "k\ud800"], ids=["alone", "after-a-letter"])
def test_a_metadata_key_holding_a_lone_surrogate_is_400(client, sandbox_key, database, key):
    content = json.dumps(new_contractor(custom_metadata={key: "v"}))
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    response = client.post(URL, content=content, headers=headers)
    error = assert_error(response, 400, "invalid_input")
    assert error["param"].startswith("custom_metadata.")
    assert stored_contractors(database) == 0


def test_a_surrogate_pair_is_one_character_and_kept(client, sandbox_key):
    content = json.dumps(new_contractor(first_name="Jo \U0001f600"))
    headers = bearer(sandbox_key, **{"Content-Type": "application/json"})
    response = client.post(URL, content=content, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["first_name"] == "Jo \U0001f600"


def test_a_metadata_key_may_hold_nul_on_every_database(client, sandbox_key):
    """The schema says no string value holds U+0000; OpenAPI 3.0 has no way to say so of an
    object's keys, so a key that holds one is kept as given, as the schema allows."""
    metadata = {"k\u0000": "v"}
    response = client.post(
        URL, json=new_contractor(custom_metadata=metadata), headers=bearer(sandbox_key)
    )
    assert response.status_code == 201, response.text
    fetched = client.get(f"{URL}/{response.json()['id']}", headers=bearer(sandbox_key))
    assert fetched.json()["custom_metadata"] == metadata


def test_an_escaped_backslash_before_u0000_is_no_nul(client, sandbox_key):
    response = client.post(
        URL, json=new_contractor(first_name="\\u0000"), headers=bearer(sandbox_key)
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "\\u0000"


def test_integers_beyond_their_int64_format_are_400(client, sandbox_key):
    limits = {"aggregate_limit": 2**63, "occurrence_limit": 1000}
    response = client.post(
        "/api/v1/entities",
        json={"name": "Big", "coverage_limit": limits},
        headers=bearer(sandbox_key),
    )
    assert_error(response, 400, "invalid_input", "coverage_limit.aggregate_limit")
    within = client.post(
        "/api/v1/entities",
        json={"name": "Big", "coverage_limit": {**limits, "aggregate_limit": 2**63 - 1}},
        headers=bearer(sandbox_key),
    )
    assert within.status_code == 201, within.text


@pytest.fixture
def limited_client(settings):
    app = create_app(settings.model_copy(update=dict(rate_limit="3/minute")))
    with app.test_client() as test_client:
        yield test_client


def test_over_the_limit_is_429_with_retry_after(limited_client, new_key):
    key, other = new_key(), new_key()
    for _ in range(3):
        assert limited_client.get(URL, headers=bearer(key)).status_code == 200
    response = limited_client.get(URL, headers=bearer(key))
    body = assert_error(response, 429, "rate_limit")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert str(retry_after) in body["message"]
    # POSTs count too, and nothing is created over the limit.
    assert limited_client.post(URL, json=new_contractor(), headers=bearer(key)).status_code == 429
    # The budget is per key.
    assert limited_client.get(URL, headers=bearer(other)).status_code == 200


def test_requests_without_a_valid_key_do_not_spend_a_budget(limited_client, new_key):
    for _ in range(5):
        assert limited_client.get(URL, headers=bearer("t9k_test_nope")).status_code == 401
    assert limited_client.get(URL, headers=bearer(new_key())).status_code == 200


@pytest.mark.parametrize("setting", ["fast", "10/fortnight", "-1/second"])
def test_a_bad_rate_limit_setting_stops_the_start(settings, setting):
    with pytest.raises(SettingsError, match="TEN99_RATE_LIMIT"):
        settings_from({"TEN99_RATE_LIMIT": setting})


def test_rate_limits_can_be_turned_off(settings, new_key):
    app = create_app(settings.model_copy(update=dict(rate_limit="off")))
    key = new_key()
    with app.test_client() as client:
        assert all(client.get(URL, headers=bearer(key)).status_code == 200 for _ in range(5))


def test_a_bad_redis_url_stops_the_start(settings):
    with pytest.raises(SettingsError, match="TEN99_REDIS_URL"):
        settings_from({"TEN99_REDIS_URL": "http://127.0.0.1:6379"})


def test_an_unreachable_redis_lets_requests_through(settings, new_key, caplog):
    # Port 1 refuses connections at once: the limit cannot be checked, and must not take the
    # API down with it.
    app = create_app(
        settings.model_copy(update=dict(rate_limit="1/minute", redis_url="redis://127.0.0.1:1/0"))
    )
    key = new_key()
    with app.test_client() as client:
        assert [client.get(URL, headers=bearer(key)).status_code for _ in range(3)] == [200] * 3
    assert "rate limit storage failed" in caplog.text
