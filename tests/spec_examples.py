"""What tests that loop over the contract take from openapi.yaml: its operations, the example of
each request body, and an id of the right form that names nothing for each path parameter."""

from __future__ import annotations

import re

from server.contract.spec import load_spec
from tests.conformance.gate import implemented_operations

SPEC = load_spec()
OPERATIONS = implemented_operations(SPEC)

# The `unknown` example of each id in a path: an id of the right form that names nothing.
UNKNOWN_IDS = {
    parameter["name"]: parameter["examples"]["unknown"]["value"]
    for parameter in SPEC["components"]["parameters"].values()
    if parameter["in"] == "path"
}


def example_body(path: str, method: str) -> dict | None:
    """The example of the operation's JSON request body, if it takes one (an upload takes
    multipart)."""
    json_body = SPEC["paths"][path][method].get("requestBody", {}).get("content", {})
    if "application/json" not in json_body:
        return None
    ref = json_body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return SPEC["components"]["schemas"][ref]["example"]


def path_parameters(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def unknown_path(path: str) -> str:
    """The path with each of its ids replaced by one that names nothing."""
    for param in path_parameters(path):
        path = path.replace("{" + param + "}", UNKNOWN_IDS[param])
    return path
