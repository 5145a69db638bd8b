"""A request as the envelope notes it for the log, packed at once and read in the request-log
process: the headers the log keeps are picked out there, whatever type the ASGI app sent."""

from __future__ import annotations

from server.core.principals import Environment, Principal
from server.worker.request_log_process import Noted, entry_of, pack


class Pair(tuple):
    """A header as an ASGI app may send it: a pair, but not a plain tuple (marshal sends none)."""


def noted(request_headers: list, response_headers: list) -> Noted:
    return Noted(
        request_id="req_Noted",
        account_id="acct_noted",
        created=1_700_000_000,
        method="POST",
        path="/api/v1/contractors",
        query=b"expand=quote",
        operation_id="createContractor",
        duration_us=2500,
        request_headers=request_headers,
        request_body=b'{"first_name":"Ada"}',
        status=201,
        response_headers=response_headers,
        response_body=b'{"id":"cn_1"}',
    )


def test_the_headers_the_log_keeps_are_read_from_the_packed_note():
    headers = [
        (b"content-type", b"application/json"),
        (b"idempotency-key", b"key-1"),
        (b"ten99policy-test-fault", b"latency=5"),
    ]
    entry = entry_of(pack(noted(headers, [(b"ten99policy-idempotent-replayed", b"true")])))
    assert entry.principal == Principal("acct_noted", Environment.SANDBOX)
    assert entry.path == "/api/v1/contractors?expand=quote"
    assert (entry.idempotency_key, entry.replayed, entry.fault) == ("key-1", True, "latency=5")
    assert entry.request_type == "application/json" and entry.response_type == ""
    assert (entry.status, entry.request_body) == (201, b'{"first_name":"Ada"}')


def test_headers_of_an_apps_own_type_are_packed_as_their_bytes():
    request_headers = [Pair((b"ten99policy-idempotent-key", bytearray(b"key-2")))]
    response_headers = [Pair((b"content-type", b"application/json"))]
    entry = entry_of(pack(noted(request_headers, response_headers)))
    assert entry.idempotency_key == "key-2" and entry.replayed is False
    assert entry.response_type == "application/json"
