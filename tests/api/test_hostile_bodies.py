"""Bodies made to be slow to refuse: long arrays of mixed items, a megabyte of junk. Each is
refused after bounded work, with a bounded error body, while other requests go on being
answered. (How fast, in milliseconds, is `python -m bench`'s to say, not a test's.)"""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from server.middleware import validation
from server.middleware.validation import MAX_BODY_BYTES
from tests.conftest import assert_error, bearer, new_contractor

MAX_ERROR_BODY = 16 * 1024
QUOTE = {"contractor": "cn_Ehb3bYa", "job": "jb_jsb9KEcTpc"}


def mixed_items(count: int) -> list:
    """Ints and strings, each distinct: a pairwise uniqueness check is quadratic in them."""
    return [i if i % 2 else f"s{i}" for i in range(count)]


def junk_array(size: int = MAX_BODY_BYTES - 1024) -> bytes:
    """An array of one-character strings, as long as fits in `size` bytes of JSON."""
    return json.dumps({**QUOTE, "coverage_type": ["x"] * (size // 5)}).encode()


@pytest.fixture
def descents(monkeypatch) -> list[int]:
    """How many times the body validator steps into a value, for the request under test."""
    counted = [0]
    descend = validation.BoundedValidator.descend

    def counting(self, *args, **kwargs):
        counted[0] += 1
        return descend(self, *args, **kwargs)

    monkeypatch.setattr(validation.BoundedValidator, "descend", counting)
    return counted


@pytest.mark.parametrize("count", [6000, 100_000])
def test_a_long_array_is_refused_without_looking_at_its_items(client, sandbox_key, descents, count):
    body = {**QUOTE, "coverage_type": mixed_items(count)}
    response = client.post("/api/v1/quotes", json=body, headers=bearer(sandbox_key))
    error = assert_error(response, 400, "invalid_input", "coverage_type")
    assert "is too long" in error["message"]
    assert len(response.content) < MAX_ERROR_BODY
    # The object's properties, not the array's items.
    assert descents[0] < 20


def test_a_megabyte_of_junk_gets_a_bounded_error(client, sandbox_key, descents):
    response = client.post(
        "/api/v1/quotes",
        content=junk_array(),
        headers=bearer(sandbox_key, **{"Content-Type": "application/json"}),
    )
    assert_error(response, 400, "invalid_input", "coverage_type")
    assert len(response.content) < MAX_ERROR_BODY
    assert descents[0] < 20


def test_many_invalid_fields_are_reported_up_to_a_bound(client, sandbox_key):
    contractor = new_contractor(custom_metadata={f"k{i}": "v" * 600 for i in range(1000)})
    response = client.post("/api/v1/contractors", json=contractor, headers=bearer(sandbox_key))
    error = assert_error(response, 400, "invalid_input")
    assert len(error["errors"]) == validation.MAX_ERRORS
    assert len(response.content) < MAX_ERROR_BODY


def test_a_message_never_repeats_a_long_value():
    assert validation.shown(["a"] * 100_000) == "an array of 100000 items"
    assert len(validation.shown("x" * 100_000)) <= validation.MAX_SHOWN + 4


def test_other_requests_are_answered_while_junk_arrives(live_server):
    """A live server: while one client sends megabyte bodies of junk, another's reads are
    answered, each within a timeout far below what a blocked event loop would take."""
    junk = junk_array()
    headers = bearer(live_server.new_key())
    with httpx.Client(base_url=live_server.base_url, timeout=30) as setup:
        made = setup.post("/contractors", json=new_contractor(), headers=headers)
        contractor = made.json()["id"]
    stop = threading.Event()
    refused: list[int] = []

    def send_junk() -> None:
        with httpx.Client(base_url=live_server.base_url, timeout=30) as sender:
            while not stop.is_set():
                response = sender.post(
                    "/quotes",
                    content=junk,
                    headers={**headers, "Content-Type": "application/json"},
                )
                refused.append(response.status_code)

    senders = [threading.Thread(target=send_junk) for _ in range(2)]
    for sender in senders:
        sender.start()
    try:
        with httpx.Client(base_url=live_server.base_url, timeout=2) as reader:
            statuses = [
                reader.get(f"/contractors/{contractor}", headers=headers).status_code
                for _ in range(50)
            ]
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    assert statuses == [200] * 50
    assert refused and set(refused) == {400}
