"""The documents' examples, live: in a sandbox made by `ten99-server examples`, every operation of
the contract, sent as its examples write it (the path's `existing` example ids, the request
body's example, the documents' key as the curl examples send it), answers its documented
success. Each operation meets a freshly made sandbox, as a reader trying one example would: the
sandbox is made once per run (`examples_template`) and copied for each."""

from __future__ import annotations

import re

import pytest

from server.contract.spec import load_spec
from server.pdf import sample
from server.sandbox import MEETS_THE_EXAMPLE, examples
from tests.conformance.gate import implemented_operations
from tests.conftest import basic, restore

SPEC = load_spec()
OPERATIONS = implemented_operations()


def _parameter(reference: dict) -> dict:
    if "$ref" in reference:
        return SPEC["components"]["parameters"][reference["$ref"].rsplit("/", 1)[-1]]
    return reference


def example_request(operation) -> tuple[str, dict | None]:
    """The operation's path with its example ids, and its example body."""
    item = SPEC["paths"][operation.path]
    declared = item.get("parameters", []) + item[operation.method.lower()].get("parameters", [])
    ids = {}
    for parameter in map(_parameter, declared):
        if parameter["in"] == "path":
            found = parameter.get("examples", {}).get("existing", {}).get("value")
            ids[parameter["name"]] = found or parameter["schema"].get("example")
    path = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], operation.path)
    body = item[operation.method.lower()].get("requestBody")
    if body is None:
        return path, None
    content = body["content"]
    schema = (content.get("application/json") or content["multipart/form-data"])["schema"]
    return path, SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]["example"]


def is_upload(operation) -> bool:
    body = SPEC["paths"][operation.path][operation.method.lower()].get("requestBody", {})
    return "multipart/form-data" in body.get("content", {})


def success(operation) -> int:
    responses = SPEC["paths"][operation.path][operation.method.lower()]["responses"]
    return int(min(code for code in responses if code.startswith("2")))


@pytest.fixture
def example_sandbox(examples_template, database_url):
    """A sandbox holding the documents' examples and nothing else, with what the worker makes
    for them (certificates, documents)."""
    restore(examples_template, database_url)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_every_operations_example_answers_its_documented_success(
    client, example_sandbox, operation
):
    path, body = example_request(operation)
    url, headers = f"/api/v1{path}", basic(examples.KEY)
    if is_upload(operation):  # the example's fields, its file a certificate that meets them
        pdf = sample.stating(*MEETS_THE_EXAMPLE)
        files = {"certificate": ("certificate.pdf", pdf, "application/pdf")}
        fields = {name: value for name, value in body.items() if name not in files}
        response = client.request(operation.method, url, data=fields, files=files, headers=headers)
    else:
        response = client.request(operation.method, url, json=body, headers=headers)
    assert response.status_code == success(operation), response.text


def test_the_examples_are_at_their_ids_on_the_examples_clock(client, example_sandbox):
    headers = basic(examples.KEY)
    clock = client.get(f"/api/v1/test_clocks/{examples.IDS['test_clock']}", headers=headers)
    assert clock.json()["frozen_time"] == examples.TIME
    paths = {
        "contractor": "contractors",
        "assigned_contractor": "contractors",
        "entity": "entities",
        "job": "jobs",
        "assignable_job": "jobs",
        "extendable_job": "jobs",
        "invoiced_job": "jobs",
        "quote": "quotes",
        "session": "apply/sessions",
        "policy": "policies",
        "assignment": "assignments",
        "invoice": "invoices",
        "certificate": "files/certificates",
        "webhook_endpoint": "webhook_endpoints",
        "event": "events",
    }
    for kind, collection in paths.items():
        object_id = examples.IDS[kind]
        found = client.get(f"/api/v1/{collection}/{object_id}", headers=headers)
        assert found.status_code == 200, (kind, found.text)
        assert found.json()["id"] == object_id
    # The example assignment is bound, with its certificates; the example policy is in force.
    assignment = client.get(f"/api/v1/assignments/{examples.IDS['assignment']}", headers=headers)
    assert assignment.json()["bind"] and assignment.json()["certificates"]
    policy = client.get(f"/api/v1/policies/{examples.IDS['policy']}", headers=headers)
    assert policy.json()["status"] == "active"


def test_the_example_endpoint_is_disabled_and_nothing_was_sent(client, example_sandbox):
    """Its URL is the documents' host, elsewhere: its deliveries wait, never attempted."""
    headers = basic(examples.KEY)
    endpoint = f"/api/v1/webhook_endpoints/{examples.IDS['webhook_endpoint']}"
    assert client.get(endpoint, headers=headers).json()["status"] == "disabled"
    deliveries = client.get(f"{endpoint}/deliveries", params={"limit": 100}, headers=headers).json()
    assert examples.IDS["delivery"] in {delivery["id"] for delivery in deliveries}
    assert {(d["status"], len(d["attempts"])) for d in deliveries} == {("pending", 0)}


@pytest.mark.storage
def test_making_them_again_replaces_the_sandbox(client, database, settings):
    """Made on the test's database (the template is SQLite's), then again after changes."""
    examples.make(database, settings)
    headers = basic(examples.KEY)
    made = client.post(
        "/api/v1/contractors", json=examples.example("ContractorCreate"), headers=headers
    )
    assert made.status_code == 201
    client.delete(f"/api/v1/contractors/{examples.IDS['contractor']}", headers=headers)

    examples.make(database, settings)
    assert (
        client.get(f"/api/v1/contractors/{made.json()['id']}", headers=headers).status_code == 404
    )
    again = client.get(f"/api/v1/contractors/{examples.IDS['contractor']}", headers=headers)
    assert again.status_code == 200
