"""The breaking-change gate on deliberate edits of a copy of the spec.

Each breaking edit must be caught and named (by Redocly's rule and by what it touched); each
compatible edit must pass; a break passes only with a new major version and a changelog section
that says it is breaking.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from spec import breaking
from spec.node import NodeMissing, ensure_node_modules

pytestmark = pytest.mark.usefixtures("redocly")

# Edits start from the released contract, so that what they add is new to it.
ORIGINAL = yaml.safe_load(breaking.latest_release().read_text())
# Its version, and the versions a change to it may take.
RELEASED = ORIGINAL["info"]["version"]
_major, _minor, _patch = (int(part) for part in RELEASED.split("."))
NEXT_MAJOR = f"{_major + 1}.0.0"
NEXT_MINOR = f"{_major}.{_minor + 1}.0"
CONTRACTOR = "/contractors/{contractor_id}"


@pytest.fixture(scope="module")
def redocly() -> None:
    try:
        ensure_node_modules()
    except NodeMissing as error:
        pytest.skip(f"{error}: the gate runs Redocly CLI")


@pytest.fixture
def base(tmp_path) -> Path:
    path = tmp_path / "released.yaml"
    path.write_text(yaml.safe_dump(ORIGINAL, sort_keys=False))
    return path


@pytest.fixture
def changelog(tmp_path) -> Path:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(f"# Contract changelog\n\n## {RELEASED}\n\nThe release.\n")
    return path


def edited(tmp_path: Path, edit: Callable[[dict], None], version: str | None = None) -> Path:
    spec = copy.deepcopy(ORIGINAL)
    edit(spec)
    if version:
        spec["info"]["version"] = version
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def schemas(spec: dict) -> dict:
    return spec["components"]["schemas"]


def remove_operation(spec: dict) -> None:
    del spec["paths"][CONTRACTOR]["delete"]


def remove_response_field(spec: dict) -> None:
    del schemas(spec)["Contractor"]["properties"]["company_name"]


def add_required_request_field(spec: dict) -> None:
    create = schemas(spec)["ContractorCreate"]
    create["properties"]["nickname"] = {"type": "string", "example": "Jo"}
    create["required"].append("nickname")


def narrow_type(spec: dict) -> None:
    schemas(spec)["PersonName"]["maxLength"] = 50


def change_type(spec: dict) -> None:
    schemas(spec)["Phone"] = {"type": "integer", "description": "A phone number.", "example": 1}


def remove_enum_value(spec: dict) -> None:
    schemas(spec)["CoverageType"]["enum"].remove("workers-comp")


def remove_response_status(spec: dict) -> None:
    del spec["paths"]["/contractors"]["get"]["responses"]["404"]


def require_a_parameter(spec: dict) -> None:
    spec["components"]["parameters"]["Limit"]["required"] = True


BREAKING_EDITS = [
    (remove_operation, "operation-removed", "DELETE /contractors/{contractor_id}"),
    (remove_response_field, "property-removed", "company_name"),
    (add_required_request_field, "required-properties-added", "nickname"),
    (narrow_type, "schema-constraint-changed", "maxLength"),
    (change_type, "schema-type-changed", "phone"),
    (remove_enum_value, "enum-values-removed", "workers-comp"),
    (remove_response_status, "response-removed", "404"),
    (require_a_parameter, "parameter-became-required", "limit"),
]


def add_optional_field(spec: dict) -> None:
    nickname = {"type": "string", "nullable": True, "maxLength": 50, "example": "Jo"}
    schemas(spec)["ContractorCreate"]["properties"]["nickname"] = dict(nickname)
    schemas(spec)["ContractorUpdate"]["properties"]["nickname"] = dict(nickname)
    schemas(spec)["Contractor"]["properties"]["nickname"] = dict(nickname)


def add_operation(spec: dict) -> None:
    patch = copy.deepcopy(spec["paths"][CONTRACTOR]["put"])
    patch["operationId"] = "patchContractor"
    patch["summary"] = "Patch a contractor"
    spec["paths"][CONTRACTOR]["patch"] = patch


def add_responses_and_headers(spec: dict) -> None:
    """What the middleware work adds: 409, 413 and 429 (with Retry-After), optional headers."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    retry_after = {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds."}
    alias = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in breaking.HTTP_METHODS:
                continue
            responses = operation["responses"]
            responses.setdefault(
                "429",
                {
                    "description": "Too many requests.",
                    "headers": {"Retry-After": retry_after},
                    "content": error,
                },
            )
            if method == "post":
                responses.setdefault("409", {"description": "In flight.", "content": error})
                responses.setdefault("413", {"description": "Too large.", "content": error})
                if alias not in operation["parameters"]:
                    operation["parameters"].append(dict(alias))


COMPATIBLE_EDITS = [add_optional_field, add_operation, add_responses_and_headers]


@pytest.mark.parametrize(
    ("edit", "rule", "named"), BREAKING_EDITS, ids=[e.__name__ for e, *_ in BREAKING_EDITS]
)
def test_a_breaking_edit_fails_and_is_named(tmp_path, base, changelog, edit, rule, named):
    result = breaking.check(edited(tmp_path, edit), base, changelog)

    assert not result.passed
    assert "keeps the major number" in result.refusal
    caught = [item for item in result.breaks if item.rule == rule]
    assert caught, f"expected {rule}, got {result.breaks}"
    assert any(named in f"{item.where} {item.message}" for item in caught)


@pytest.mark.parametrize("edit", COMPATIBLE_EDITS, ids=[e.__name__ for e in COMPATIBLE_EDITS])
def test_a_compatible_edit_passes(tmp_path, base, changelog, edit):
    result = breaking.check(edited(tmp_path, edit), base, changelog)

    assert result.passed, breaking.report_text(result, tmp_path / "openapi.yaml")
    assert result.breaks == []
    assert result.compatible_changes > 0


def test_a_break_released_as_a_new_major_with_a_changelog_entry_passes(tmp_path, base, changelog):
    changelog.write_text(
        f"# Contract changelog\n\n## {NEXT_MAJOR}\n\n### Breaking\n\n"
        f"- `DELETE /contractors/{{id}}` is gone.\n\n## {RELEASED}\n\nThe release.\n"
    )
    result = breaking.check(edited(tmp_path, remove_operation, NEXT_MAJOR), base, changelog)

    assert result.passed
    assert [item.rule for item in result.breaks] == ["operation-removed"]


def test_a_new_major_without_a_changelog_entry_fails(tmp_path, base, changelog):
    result = breaking.check(edited(tmp_path, remove_operation, NEXT_MAJOR), base, changelog)

    assert not result.passed
    assert f"no '## {NEXT_MAJOR}' section" in result.refusal


def test_a_changelog_entry_that_does_not_say_breaking_fails(tmp_path, base, changelog):
    changelog.write_text(
        f"# Contract changelog\n\n## {NEXT_MAJOR}\n\nTidied up.\n\n## {RELEASED}\n"
    )
    result = breaking.check(edited(tmp_path, remove_operation, NEXT_MAJOR), base, changelog)

    assert not result.passed
    assert "must say that the release is breaking" in result.refusal


def test_a_break_with_only_a_minor_bump_fails(tmp_path, base, changelog):
    changelog.write_text(f"# Contract changelog\n\n## {NEXT_MINOR}\n\nBreaking: no delete.\n")
    result = breaking.check(edited(tmp_path, remove_operation, NEXT_MINOR), base, changelog)

    assert not result.passed
    assert f"release {NEXT_MAJOR}" in result.refusal


def test_a_break_with_a_version_that_is_not_semver_fails(tmp_path, base, changelog):
    result = breaking.check(edited(tmp_path, remove_operation, "latest"), base, changelog)

    assert not result.passed
    assert "MAJOR.MINOR.PATCH" in result.refusal


def test_the_command_names_the_break_and_exits_1(tmp_path, base, changelog, capsys):
    revision = edited(tmp_path, remove_response_field)

    status = breaking.main([str(revision), "--base", str(base), "--changelog", str(changelog)])

    out = capsys.readouterr().out
    assert status == 1
    assert "BREAKING GET /contractors" in out
    assert "Property `company_name` of `Contractor` was removed. (property-removed)" in out
    assert "FAILED:" in out


def test_the_latest_release_is_the_highest_version(tmp_path):
    for name in ("1.6.12.yaml", "1.10.0.yaml", "1.9.3.yaml"):
        (tmp_path / name).write_text("openapi: 3.0.3\n")

    assert breaking.latest_release(tmp_path).name == "1.10.0.yaml"


def test_the_repository_keeps_the_released_1_6_12_contract():
    released = yaml.safe_load((breaking.RELEASED / "1.6.12.yaml").read_text())

    assert released["info"]["version"] == "1.6.12"
    assert "/contractors" in released["paths"]
