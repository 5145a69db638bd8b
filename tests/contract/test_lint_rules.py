"""The contract's own lint rules (redocly.yaml, run by `make check`), each shown refusing what it
keeps out, on a copy of the contract with one schema renamed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from spec.node import NodeMissing, ensure_node_modules

ROOT = Path(__file__).resolve().parents[2]
RULE = "rule/no-schema-named-like-a-generators-type"
RENAMED = "AddressOrNull"


@pytest.fixture(scope="module", autouse=True)
def redocly() -> None:
    try:
        ensure_node_modules()
    except NodeMissing as error:
        pytest.skip(f"{error}: the rules run in Redocly CLI")


def lint_with_schema_renamed(tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    text = (ROOT / "openapi.yaml").read_text().replace(RENAMED, name)
    assert name in yaml.safe_load(text)["components"]["schemas"]
    path = tmp_path / "openapi.yaml"
    path.write_text(text)
    command = ["npx", "--no-install", "redocly", "lint", str(path)]
    return subprocess.run(
        [*command, "--config", str(ROOT / "redocly.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", ["NullableSomething", "ApiClient", "Configuration", "Pair"])
def test_a_schema_named_like_a_generators_own_type_is_refused(tmp_path, name):
    linted = lint_with_schema_renamed(tmp_path, name)
    assert linted.returncode != 0
    assert RULE in linted.stdout + linted.stderr


def test_a_schema_of_another_name_passes(tmp_path):
    linted = lint_with_schema_renamed(tmp_path, "AddressOrNone")
    assert linted.returncode == 0, linted.stdout + linted.stderr
