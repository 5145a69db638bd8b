"""The TypeScript client: the usage program compiles under `strict` against the generated types,
then Node runs it against the live server."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from codegen import clients
from spec.node import tool

PROGRAM = clients.ROOT / "tests" / "clients" / "typescript"
COMPILED = clients.BUILD / "typescript" / "dist" / "scenario.mjs"

pytestmark = pytest.mark.usefixtures("built")


@pytest.fixture(scope="module")
def compiled() -> subprocess.CompletedProcess:
    # strict, with noEmitOnError: a type error leaves no program to run.
    return subprocess.run(
        [str(tool("tsc")), "--project", str(PROGRAM / "tsconfig.json"), "--pretty", "false"],
        cwd=clients.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_usage_program_compiles_under_strict(compiled):
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert COMPILED.exists()


def test_the_usage_program_runs_against_the_server(compiled, run_scenario):
    assert compiled.returncode == 0, "the program did not compile"
    node = shutil.which("node")
    assert node, "Node.js is needed to run the TypeScript client"

    run, steps = run_scenario([node, str(COMPILED)])

    assert run.returncode == 0, run.stdout + run.stderr
    assert steps == ["create", "list", "retrieve", "update", "delete", "error", "error"]
    assert "ok error 404 resource_not_found" in run.stdout
    assert "ok error 401 invalid_api_key" in run.stdout
