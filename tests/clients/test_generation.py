"""The clients' generation check: a name the spec did not choose fails it."""

from __future__ import annotations

import yaml

from codegen import clients


def contract() -> dict:
    return yaml.safe_load(clients.SPEC.read_text())


def test_an_untitled_nullable_object_and_a_dotted_operation_are_caught(tmp_path):
    spec = contract()
    del spec["components"]["schemas"]["AddressOrNull"]["title"]
    spec["paths"]["/contractors"]["get"]["operationId"] = "server.api.listContractors"
    edited = tmp_path / "openapi.yaml"
    edited.write_text(yaml.safe_dump(spec, sort_keys=False))

    problems = clients.generate(tmp_path / "out", edited)

    assert "Python: model 'AddressOrNullType0' is numbered, not named by the spec" in problems
    assert any("'server.api.listContractors' is not a short camelCase" in p for p in problems)


def test_a_duplicated_operation_is_caught():
    spec = contract()
    spec["paths"]["/contractors"]["post"]["operationId"] = "retrieveContractor"

    assert clients.operation_problems(spec) == ["operationId 'retrieveContractor' is used twice"]
