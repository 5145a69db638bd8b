"""The Go client: openapi-generator's package and a usage program, built by Debian's Go (GOPATH
mode, its packaged modules, no module proxy), then run against the live server."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from codegen import clients

PROGRAM = clients.ROOT / "tests" / "clients" / "go" / "scenario.go"
# Where Debian's golang-*-dev packages put their modules (gopkg.in/validator.v2).
DEBIAN_GOPATH = "/usr/share/gocode"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> subprocess.CompletedProcess:
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go: apt-get install golang-go golang-gopkg-validator.v2-dev")
    if not clients.go_package().exists():
        pytest.skip("no Go client generated: openapi-generator needs Java (default-jre-headless)")
    source = clients.go_path() / "src" / "scenario"
    source.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROGRAM, source / "main.go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": f"{clients.go_path()}{os.pathsep}{DEBIAN_GOPATH}",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOCACHE": str(tmp_path_factory.mktemp("gocache")),
    }
    return subprocess.run(
        [go, "build", "-o", str(clients.go_path() / "bin" / "scenario"), "."],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_client_and_the_usage_program_compile(compiled):
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_the_usage_program_runs_against_the_server(compiled, run_scenario):
    assert compiled.returncode == 0, "the program did not compile"
    run, steps = run_scenario([str(clients.go_path() / "bin" / "scenario")])

    assert run.returncode == 0, run.stdout + run.stderr
    assert steps == ["create", "list", "retrieve", "update", "quote", "delete", "error"]
    assert "ok error 404 resource_not_found" in run.stdout
