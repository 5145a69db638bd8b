"""The contract's own rules, beyond what the validator and the linter check."""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from server.contract.spec import HTTP_METHODS, load_spec, spec_path
from server.core.errors import InvalidRequest
from server.domain.urls import check_http_url
from tests.conformance.hooks import before_load_schema, links_in

SPEC = load_spec()
REGISTRY = Registry().with_resource("urn:spec", Resource.from_contents(SPEC, DRAFT4))
OPERATIONS = [
    (path, method, item, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method in HTTP_METHODS
]
IDS = [f"{method.upper()} {path}" for path, method, _item, _op in OPERATIONS]


def resolve(node: dict) -> dict:
    """Follow a local `$ref` (as often as it takes) to the node it names."""
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameters(item: dict, op: dict) -> list[dict]:
    return [resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]


def test_no_jinja_braces():
    assert "{{" not in spec_path().read_text()


@pytest.mark.parametrize(("path", "method", "item", "op"), OPERATIONS, ids=IDS)
def test_every_operation_is_complete(path, method, item, op):
    assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", op["operationId"])
    assert op.get("summary") and op.get("description")
    declared_tags = {tag["name"] for tag in SPEC["tags"]}
    assert len(op["tags"]) == 1 and op["tags"][0] in declared_tags
    names = {p["name"] for p in parameters(item, op)}
    assert "Ten99Policy-Environment" in names
    if method == "post":
        assert {"Ten99Policy-Idempotent-Key", "Idempotency-Key"} <= names
        assert "409" in op["responses"], "a retry while the first request runs is a 409"
    if method in ("post", "put", "patch"):
        assert "413" in op["responses"], "bodies over 1 MiB are refused"
    assert op.get("security", SPEC["security"]) == [{"bearerAuth": []}, {"basicAuth": []}]
    assert {"400", "401", "429", "500"} <= set(op["responses"])
    assert "Retry-After" in resolve(op["responses"]["429"])["headers"]
    for status, response in op["responses"].items():
        headers = resolve(response).get("headers", {})
        assert {"request-id", "Ten99Policy-Environment"} <= headers.keys(), status


@pytest.mark.parametrize(("path", "method", "item", "op"), OPERATIONS, ids=IDS)
def test_every_response_is_named_and_carries_a_request_id(path, method, item, op):
    for status, response in op["responses"].items():
        response = resolve(response)
        assert "request-id" in response.get("headers", {}), status
        schema = response["content"]["application/json"]["schema"]
        assert "$ref" in schema, f"{status}: the body schema must be a named component"
        if not status.startswith("2"):
            assert schema["$ref"] == "#/components/schemas/Error", status


CREATES = [(path, op) for path, method, _item, op in OPERATIONS if "201" in op["responses"]]


@pytest.mark.parametrize(("path", "op"), CREATES, ids=[op["operationId"] for _p, op in CREATES])
def test_creates_link_to_what_can_be_done_with_the_new_object(path, op):
    links = resolve(op["responses"]["201"]).get("links", {})
    item_paths = [p for p in SPEC["paths"] if re.fullmatch(re.escape(path) + r"/\{[a-z_]+\}", p)]
    expected = {
        other["operationId"]
        for p in item_paths
        for m, other in SPEC["paths"][p].items()
        if m in ("get", "put", "delete")
    }
    assert expected, "a create should have an item path to link to"
    linked = {link["operationId"] for link in links.values()}
    assert expected <= linked, f"no link to {sorted(expected - linked)}"
    # Links onwards (an entity's job, a quote's policy) name operations that exist.
    assert linked <= {o["operationId"] for _p, _m, _i, o in OPERATIONS}


def test_links_give_their_request_bodies_where_the_standard_generator_reads_none():
    """openapi-generator refuses a contract with a link whose `requestBody` is not a string
    (OpenAPI 3.0 allows any value): the bodies that chain creates are `x-request-body`."""
    links = list(links_in(SPEC))
    assert len(links) > 9  # every create's links, found
    assert all(isinstance(link.get("requestBody", ""), str) for link in links)
    assert any("x-request-body" in link for link in links)


def test_the_conformance_run_reads_the_links_request_bodies_as_the_standard_field():
    raw = copy.deepcopy(load_spec())
    written = [link["x-request-body"] for link in links_in(raw) if "x-request-body" in link]
    before_load_schema(None, raw)
    read = [link["requestBody"] for link in links_in(raw) if "requestBody" in link]
    assert read == written and written
    assert not any("x-request-body" in link for link in links_in(raw))


def examples():
    """(where, JSON pointer of the schema, example) for every example in the spec."""

    def in_schema(where, pointer, schema):
        if not isinstance(schema, dict):
            return
        if "example" in schema:
            yield where, pointer, schema["example"]
        for name, sub in (schema.get("properties") or {}).items():
            yield from in_schema(f"{where}.{name}", f"{pointer}/properties/{name}", sub)
        for key in ("items", "additionalProperties"):
            yield from in_schema(f"{where}.{key}", f"{pointer}/{key}", schema.get(key))

    for name, schema in SPEC["components"]["schemas"].items():
        yield from in_schema(name, f"/components/schemas/{name}", schema)
    for name, param in SPEC["components"]["parameters"].items():
        yield from in_schema(
            f"parameter {name}", f"/components/parameters/{name}/schema", param["schema"]
        )
    responses = [
        (f"response {name}", f"/components/responses/{name}", response)
        for name, response in SPEC["components"]["responses"].items()
    ]
    responses += [
        (f"{m.upper()} {p} {s}", f"/paths/{p.replace('/', '~1')}/{m}/responses/{s}", r)
        for p, m, _i, op in OPERATIONS
        for s, r in op["responses"].items()
        if "$ref" not in r
    ]
    for where, pointer, response in responses:
        for media_type, content in response.get("content", {}).items():
            schema = f"{pointer}/content/{media_type.replace('/', '~1')}/schema"
            if "example" in content:
                yield where, schema, content["example"]
            for name, example in content.get("examples", {}).items():
                yield f"{where} {name}", schema, resolve(example)["value"]


EXAMPLES = list(examples())


@pytest.mark.parametrize(("where", "pointer", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates(where, pointer, example):
    validator = OAS30Validator(
        {"$ref": f"urn:spec#{pointer}"}, registry=REGISTRY, format_checker=FormatChecker()
    )
    assert [f"{e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(example)] == []


def test_every_request_and_response_schema_has_an_example():
    named = set()
    for _path, _method, _item, op in OPERATIONS:
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" in body:
            named.add(body["schema"]["$ref"])
        for response in op["responses"].values():
            named.add(resolve(response)["content"]["application/json"]["schema"]["$ref"])
    lacking = [
        ref
        for ref in sorted(named)
        if "example" not in resolve({"$ref": ref}) and resolve({"$ref": ref}).get("type") != "array"
    ]
    assert lacking == []


def _error_codes_in_examples(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["error_code"]} if isinstance(node.get("error_code"), str) else set()
        return found.union(*(_error_codes_in_examples(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_error_codes_in_examples(value) for value in node))
    return set()


def _error_code_table() -> dict[str, set[int]]:
    """The codes of the table in `Error`'s description, with their statuses."""
    table: dict[str, set[int]] = {}
    for row in SPEC["components"]["schemas"]["Error"]["description"].splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1][:1].isdigit():
            for code in re.findall(r"`([a-z_]+)`", cells[0]):
                statuses = {int(status) for status in re.findall(r"\d{3}", cells[1])}
                table[code] = table.get(code, set()) | statuses
    return table


def test_every_error_code_in_an_example_is_in_the_table_with_its_status():
    table = _error_code_table()
    assert "resource_not_found" in table and "invalid_input" in table
    assert _error_codes_in_examples(SPEC) <= table.keys()
    for path, method, _item, op in OPERATIONS:
        for status, response in op.get("responses", {}).items():
            media = resolve(response).get("content", {}).get("application/json", {})
            for code in _error_codes_in_examples(media):
                assert int(status) in table[code], f"{method.upper()} {path} {status} {code}"


HTTP_URL_SAMPLES = [
    ("https://1099jobcloud.com/hooks/1099policy", True),
    ("HTTP://Example.com", True),
    ("http://127.0.0.1:8000/hooks?x=1#y", True),
    ("http://[::1]:8000/hooks", True),
    ("https://user:secret@example.com/", True),
    ("ftp://example.com/", False),
    ("https:example.com", False),
    ("http://", False),
    ("http://:8000/", False),
    ("http://user@", False),
    ("http:///path", False),
]


@pytest.mark.parametrize(("url", "accepted"), HTTP_URL_SAMPLES)
def test_the_http_url_pattern_says_what_the_server_checks(url, accepted):
    """The schema's pattern for the URLs the server calls or sends browsers to (webhook
    endpoints, a session's success and cancel URLs) is the server's rule, so that a client or
    a fuzzer reading the contract knows it."""
    schemas = SPEC["components"]["schemas"]
    pattern = schemas["WebhookUrl"]["pattern"]
    session_urls = [
        schemas[name]["properties"][field]["pattern"]
        for name in ("ApplicationSessionCreate", "ApplicationSessionUpdate")
        for field in ("success_url", "cancel_url")
    ]
    assert set(session_urls) == {pattern}
    assert bool(re.search(pattern, url)) is accepted
    try:
        check_http_url(url, "url", "a test")
        served = True
    except InvalidRequest:
        served = False
    assert served is accepted
