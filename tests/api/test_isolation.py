"""Accounts and environments never see each other's objects: every id-taking operation answers
404 for another account's or environment's object, exactly as for one that does not exist."""

from __future__ import annotations

import base64
import re

import pytest

from server.contract.spec import load_spec
from server.core.principals import Environment
from server.domain import keys
from server.store.keys import KeyStore
from tests.conformance.gate import is_implemented, load_operations
from tests.conftest import FACTORIES, NESTED, bearer, created, new_contractor

# Every id-taking operation's statements, each under the caller's-account conditions, run on
# both databases here.
pytestmark = pytest.mark.storage

SPEC = load_spec()
BASE = "/api/v1"


# Paths only sandbox keys reach.
SANDBOX_ONLY = ("/test_clocks", "/sandbox/", "/request_logs")
# Parameters naming objects every account shares, so there is nothing to isolate.
SHARED = {"category_code_id": "the job category catalogue is the same for every account"}
ID_OPERATIONS = [
    op
    for op in load_operations(SPEC)
    if is_implemented(op)
    and re.search(r"\{\w+\}", op.path)
    and not set(re.findall(r"\{(\w+)\}", op.path)) & set(SHARED)
]


def _request_body(operation) -> dict | None:
    op = SPEC["paths"][operation.path][operation.method.lower()]
    if "requestBody" not in op:
        return None
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return SPEC["components"]["schemas"][name]["example"]


def _call(client, operation, key: str, object_ids: dict[str, str]):
    path = BASE + re.sub(r"\{(\w+)\}", lambda m: object_ids[m.group(1)], operation.path)
    return client.request(
        operation.method, path, json=_request_body(operation), headers=bearer(key)
    )


def test_every_id_parameter_has_a_factory():
    params = {p for op in ID_OPERATIONS for p in re.findall(r"\{(\w+)\}", op.path)}
    missing = params - set(FACTORIES) - set(NESTED)
    assert not missing, f"add factories for {sorted(missing)}"
    assert ID_OPERATIONS, "contractor operations take ids"


@pytest.mark.parametrize(
    ("owner", "caller"),
    [
        ((Environment.SANDBOX, "acct_b"), (Environment.SANDBOX, "acct_a")),
        ((Environment.SANDBOX, "acct_a"), (Environment.PRODUCTION, "acct_a")),
        ((Environment.PRODUCTION, "acct_a"), (Environment.SANDBOX, "acct_a")),
    ],
    ids=["other-account", "sandbox-object-from-production", "production-object-from-sandbox"],
)
@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=lambda op: op.operation_id)
def test_another_owners_object_is_404(client, new_key, operation, owner, caller):
    if operation.path.startswith(SANDBOX_ONLY) and Environment.PRODUCTION in (owner[0], caller[0]):
        pytest.skip(
            "no live key reaches a sandbox tool: tests/api/test_test_clocks.py gets its 403, "
            "test_snapshots.py and test_request_logs.py their 400 sandbox_only"
        )
    owner_key, caller_key = new_key(*owner), new_key(*caller)
    params = re.findall(r"\{(\w+)\}", operation.path)
    object_ids = {}
    for param in params:
        if param in NESTED:
            object_ids[param] = NESTED[param][0](client, owner_key, object_ids)
        else:
            object_ids[param] = FACTORIES[param](client, owner_key)

    response = _call(client, operation, caller_key, object_ids)
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "resource_not_found"
    # The owner still sees it, unchanged and undeleted.
    for param, object_id in object_ids.items():
        if param in NESTED:
            listed = client.get(BASE + NESTED[param][1](object_ids), headers=bearer(owner_key))
            assert object_id in {item["id"] for item in listed.json()}
            continue
        path = operation.path.split("{" + param + "}")[0] + object_id
        assert client.get(BASE + path, headers=bearer(owner_key)).status_code == 200


def test_lists_show_only_the_callers_account_and_environment(client, new_key):
    owners = [
        (Environment.SANDBOX, "acct_a"),
        (Environment.PRODUCTION, "acct_a"),
        (Environment.SANDBOX, "acct_b"),
    ]
    made = {}
    for owner in owners:
        key = new_key(*owner)
        made[owner] = (key, FACTORIES["contractor_id"](client, key))
    for key, object_id in made.values():
        listed = client.get(f"{BASE}/contractors", headers=bearer(key)).json()
        assert [c["id"] for c in listed] == [object_id]


@pytest.mark.parametrize(
    ("environment", "header"),
    [(Environment.SANDBOX, "production"), (Environment.PRODUCTION, "sandbox")],
)
def test_the_key_decides_the_environment_whatever_the_header_says(
    client, new_key, environment, header
):
    """The official Node library sends `Ten99Policy-Environment: production` with any key: the
    request runs in the key's environment, and the response says which."""
    key = new_key(environment)
    mine = created(
        client.post(
            f"{BASE}/contractors",
            json=new_contractor(),
            headers=bearer(key, **{"Ten99Policy-Environment": header}),
        )
    )
    other = new_key(
        Environment.PRODUCTION if environment is Environment.SANDBOX else Environment.SANDBOX
    )
    created(client.post(f"{BASE}/contractors", json=new_contractor(), headers=bearer(other)))

    listed = client.get(
        f"{BASE}/contractors", headers=bearer(key, **{"Ten99Policy-Environment": header})
    )
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [mine["id"]]
    assert listed.headers["Ten99Policy-Environment"] == environment.value
    # Errors after authentication say it too; before it, there is no environment to name.
    missing = client.get(f"{BASE}/contractors/cn_missing", headers=bearer(key))
    assert missing.status_code == 404
    assert missing.headers["Ten99Policy-Environment"] == environment.value
    assert "Ten99Policy-Environment" not in client.get(f"{BASE}/contractors").headers


@pytest.mark.parametrize(
    ("prefix", "environment"),
    [("t9sk_test_", Environment.SANDBOX), ("t9sk_live_", Environment.PRODUCTION)],
)
def test_keys_in_the_client_libraries_form_work(client, database, prefix, environment):
    """The official libraries document their keys as `t9sk_test_...` and `t9sk_live_...`."""
    key = prefix + "their-documented-key-form-0123456789"
    with database.transaction() as connection:
        keys.ensure_key(KeyStore(connection), key, "acct_a")
    response = client.get(f"{BASE}/contractors", headers=bearer(key))
    assert response.status_code == 200
    assert response.headers["Ten99Policy-Environment"] == environment.value
    basic = base64.b64encode(f"{key}:".encode()).decode()
    assert (
        client.get(f"{BASE}/contractors", headers={"Authorization": f"Basic {basic}"}).status_code
        == 200
    )
    assert (
        client.get(f"{BASE}/contractors", headers={"Authorization": f"Basic {key}"}).status_code
        == 200
    )
