"""What every list, every delete and every id of the contract share, written once and run for
each operation openapi.yaml declares, as stripe-mock tests its generator: a list is most recent
first, `limit` (1..100, default 10) and the cursors `starting_after` and `ending_before` page
through it, an unknown cursor is a 404 naming it; a delete answers the deleted object's id and
kind, after which the object is gone; an unknown id is a 404 naming its parameter. Another
account sees none of it, not even through a cursor.

Paging and deleting are statements of the store, so these run on both databases."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import (
    FACTORIES,
    NESTED,
    assert_error,
    bearer,
    bind,
    created,
    new_job,
    underwrite,
)
from tests.spec_examples import (
    OPERATIONS,
    SPEC,
    UNKNOWN_IDS,
    example_body,
    path_parameters,
    unknown_path,
)

pytestmark = pytest.mark.storage

BASE = "/api/v1"
DEFAULT_LIMIT, MAX_LIMIT = 10, 100
MADE = DEFAULT_LIMIT + 2  # objects made for a list: more than its default page


def _parameters(path: str, method: str) -> list[dict]:
    item = SPEC["paths"][path]
    declared = item.get("parameters", []) + item[method].get("parameters", [])
    by_name = SPEC["components"]["parameters"]
    return [by_name[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p for p in declared]


@dataclass(frozen=True)
class Collection:
    """How to fill a list: `parent` makes the object a nested list's path names (its id), and
    `make` one item of the list, returning its id; `count` is how many a sandbox can hold
    (`MADE`, unless fewer). `item_id` names the id parameter of the listed kind."""

    item_id: str
    make: Callable[..., str] | None
    count: int = MADE
    parent: Callable[..., str] | None = None


# The states of the jobs `_policy_of` covers in turn: a contractor's policies on file for the
# same cover (coverage, job category and work state) would refuse a second quote.
_WORK_STATES = itertools.cycle(
    ["CA", "NV", "OR", "WA", "AZ", "UT", "CO", "NM", "TX", "NY", "NJ", "PA", "IL", "GA", "FL"]
)


def _policy_of(client, key, contractor_id: str) -> str:
    """A new policy of the contractor, for a job of its own."""
    made = underwrite(client, key)
    address = {"postalcode": "94104", "region": next(_WORK_STATES)}
    job = created(
        client.post(
            f"{BASE}/jobs",
            json=new_job(made["entity"]["id"], address=address),
            headers=bearer(key),
        )
    )
    body = {"contractor": contractor_id, "job": job["id"], "coverage_type": ["general"]}
    quote = created(client.post(f"{BASE}/quotes", json=body, headers=bearer(key)))
    return bind(client, key, quote["id"])["id"]


def _delivery_to(client, key, endpoint_id: str) -> str:
    return NESTED["webhook_delivery_id"][0](client, key, {"webhook_endpoint_id": endpoint_id})


# Every list operation's path, and how to fill it; test_every_list_is_described fails for a list
# missing here.
COLLECTIONS = {
    "/contractors": Collection("contractor_id", FACTORIES["contractor_id"]),
    "/entities": Collection("entity_id", FACTORIES["entity_id"]),
    "/jobs": Collection("job_id", FACTORIES["job_id"]),
    "/quotes": Collection("quote_id", FACTORIES["quote_id"]),
    "/policies": Collection("policy_id", FACTORIES["policy_id"]),
    "/apply/sessions": Collection("session_id", FACTORIES["session_id"]),
    "/assignments": Collection("assignment_id", FACTORIES["assignment_id"]),
    "/invoices": Collection("invoice_id", FACTORIES["invoice_id"]),
    "/webhook_endpoints": Collection("webhook_endpoint_id", FACTORIES["webhook_endpoint_id"]),
    "/events": Collection("event_id", FACTORIES["event_id"]),
    "/files/certificates": Collection("certificate_id", FACTORIES["certificate_id"]),
    # A sandbox has one clock at most: a new one replaces the one before.
    "/test_clocks": Collection("test_clock_id", FACTORIES["test_clock_id"], count=1),
    "/sandbox/snapshots": Collection("snapshot_id", FACTORIES["snapshot_id"]),
    # The factory's requests: the log's own reads are not logged.
    "/request_logs": Collection("request_id", FACTORIES["request_id"]),
    # The catalogue is seeded, the same for every account.
    "/category_codes": Collection("category_code_id", None, count=0),
    "/contractors/{contractor_id}/policies": Collection(
        "policy_id", _policy_of, parent=FACTORIES["contractor_id"]
    ),
    "/webhook_endpoints/{webhook_endpoint_id}/deliveries": Collection(
        "webhook_delivery_id", _delivery_to, parent=FACTORIES["webhook_endpoint_id"]
    ),
}

LISTS = [
    op
    for op in OPERATIONS
    if op.method == "GET" and "limit" in {p["name"] for p in _parameters(op.path, "get")}
]
DELETES = [op for op in OPERATIONS if op.method == "DELETE"]
ID_OPERATIONS = [op for op in OPERATIONS if "{" in op.path]


def _fill(client, key, path: str) -> tuple[str, list[str]]:
    """The list's URL, and the ids of the objects made in it, oldest first. A nested list's
    parent gets a sibling with an item of its own first, which the list must leave out."""
    collection = COLLECTIONS[path]
    if collection.parent is None:
        return BASE + path, [collection.make(client, key) for _ in range(collection.count)]
    sibling = collection.parent(client, key)
    collection.make(client, key, sibling)
    parent_id = collection.parent(client, key)
    made = [collection.make(client, key, parent_id) for _ in range(collection.count)]
    return BASE + re.sub(r"\{\w+\}", parent_id, path), made


def test_every_list_is_described():
    assert {op.path for op in LISTS} == set(COLLECTIONS)


@pytest.mark.parametrize("operation", LISTS, ids=lambda op: op.operation_id)
def test_a_list_pages_most_recent_first(client, sandbox_key, new_key, operation):
    url, made = _fill(client, sandbox_key, operation.path)
    headers = bearer(sandbox_key)

    def page(**params) -> list[str]:
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]

    whole = client.get(url, params={"limit": MAX_LIMIT}, headers=headers).json()
    everything = [item["id"] for item in whole]
    assert len(everything) < MAX_LIMIT, "the test sees the whole list in one page"
    assert len(set(everything)) == len(everything)
    assert all(a["created"] >= b["created"] for a, b in itertools.pairwise(whole))
    if made:
        # Most recent first; only what was made in it, by this account.
        assert everything == made[::-1]
        if "{" not in operation.path:
            other = bearer(new_key(account="acct_other"))
            assert client.get(url, headers=other).json() == []
            for cursor in ("starting_after", "ending_before"):
                foreign = client.get(url, params={cursor: made[0]}, headers=other)
                assert_error(foreign, 404, "resource_not_found", param=cursor)

    assert page() == everything[:DEFAULT_LIMIT]
    assert page(limit=3) == everything[:3]
    for n in range(len(everything)):
        assert page(limit=3, starting_after=everything[n]) == everything[n + 1 : n + 4]
        assert page(limit=2, ending_before=everything[n]) == everything[max(n - 2, 0) : n]
    if len(everything) > 4:
        assert page(starting_after=everything[0], ending_before=everything[4]) == everything[1:4]
    # Pages of one walk the whole list, either way.
    forwards, cursor = [], {}
    while batch := page(limit=1, **cursor):
        forwards += batch
        cursor = {"starting_after": batch[-1]}
    assert forwards == everything


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1, -1])
@pytest.mark.parametrize("operation", LISTS, ids=lambda op: op.operation_id)
def test_a_limit_out_of_range_is_refused(client, sandbox_key, operation, limit):
    url = _empty_list(client, sandbox_key, operation.path)
    response = client.get(url, params={"limit": limit}, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", param="limit")


@pytest.mark.parametrize("cursor", ["starting_after", "ending_before"])
@pytest.mark.parametrize("operation", LISTS, ids=lambda op: op.operation_id)
def test_an_unknown_cursor_is_a_404_naming_it(client, sandbox_key, operation, cursor):
    url = _empty_list(client, sandbox_key, operation.path)
    unknown = UNKNOWN_IDS[COLLECTIONS[operation.path].item_id]
    response = client.get(url, params={cursor: unknown}, headers=bearer(sandbox_key))
    _assert_no_such(response, unknown, param=cursor)


def _empty_list(client, key, path: str) -> str:
    """The list's URL, with nothing made but the object a nested list's path names."""
    parent = COLLECTIONS[path].parent
    return BASE + (path if parent is None else re.sub(r"\{\w+\}", parent(client, key), path))


@pytest.mark.parametrize("operation", DELETES, ids=lambda op: op.operation_id)
def test_a_delete_answers_the_deleted_object_which_is_then_gone(client, sandbox_key, operation):
    [param] = re.findall(r"\{(\w+)\}", operation.path)
    url = BASE + operation.path.replace("{" + param + "}", FACTORIES[param](client, sandbox_key))
    headers = bearer(sandbox_key)
    before = client.get(url, headers=headers).json()

    response = client.delete(url, headers=headers)

    assert response.status_code == 200, response.text
    deleted = response.json()
    assert set(deleted) == {"id", "object", "livemode", "deleted", "deleted_at"}
    assert (deleted["id"], deleted["object"], deleted["deleted"]) == (
        before["id"],
        before["object"],
        True,
    )
    assert isinstance(deleted["deleted_at"], int) and deleted["deleted_at"] >= before["created"]
    assert_error(client.get(url, headers=headers), 404, "resource_not_found", param=param)
    assert_error(client.delete(url, headers=headers), 404, "resource_not_found", param=param)
    listed = client.get(url.rsplit("/", 1)[0], params={"limit": 100}, headers=headers).json()
    assert before["id"] not in {item["id"] for item in listed}
    if "put" in SPEC["paths"][operation.path]:
        changed = client.put(url, json=example_body(operation.path, "put"), headers=headers)
        assert_error(changed, 404, "resource_not_found", param=param)


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=lambda op: op.operation_id)
def test_an_unknown_id_is_a_404_naming_its_parameter(client, sandbox_key, operation):
    """Each id in the path names nothing; the first one looked up is the one named."""
    params = path_parameters(operation.path)
    body = example_body(operation.path, operation.method.lower())
    response = client.request(
        operation.method,
        BASE + unknown_path(operation.path),
        json=body,
        headers=bearer(sandbox_key),
    )
    _assert_no_such(response, UNKNOWN_IDS[params[0]], param=params[0])


def _assert_no_such(response, unknown: str, *, param: str) -> None:
    body = assert_error(response, 404, "resource_not_found", param=param)
    assert body["message"].startswith("No such ") and body["message"].endswith(f": {unknown}")


def test_every_delete_and_id_has_a_factory_and_an_unknown_example():
    assert DELETES and ID_OPERATIONS
    params = {p for op in ID_OPERATIONS for p in re.findall(r"\{(\w+)\}", op.path)}
    assert params <= set(UNKNOWN_IDS)
    deleted = {re.findall(r"\{(\w+)\}", op.path)[0] for op in DELETES}
    assert deleted <= set(FACTORIES)
