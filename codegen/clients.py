"""`python -m codegen.clients`: generate the clients downstream teams would, into build/clients/.

- TypeScript: openapi-typescript writes the API's types (build/clients/typescript/schema.d.ts),
  with every component schema exported under its own name, for the typed fetch client
  openapi-fetch.
- Python: openapi-python-client writes a package (build/clients/python/), with the settings in
  codegen/python-client.yaml, from the contract with JSON request bodies alone
  (`json_bodies_only` says why).
- Go: openapi-generator (its jar, from PyPI, run by Java) writes the package `ten99policy` into a
  GOPATH (build/clients/go/src/ten99policy), with the options in GO_OPTIONS. Without Java it is
  left out, and says so.

A generator's warning fails the run, and so does a name that the spec did not choose: a numbered
model (`AddressOrNullType0`, `Model1`), an operation whose name is dotted, duplicated or
suffixed, an enum that is not a component schema. Fix the spec, not the output.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from server.contract.spec import HTTP_METHODS
from server.middleware.resolver import snake_case
from spec.node import ensure_node_modules, tool

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
BUILD = ROOT / "build" / "clients"
PYTHON_CONFIG = ROOT / "codegen" / "python-client.yaml"
PYTHON_PACKAGE = "ten99policy_client"
WARNING = re.compile(r"warn|⚠", re.IGNORECASE)
GO_PACKAGE = "ten99policy"
GO_OPTIONS = [
    # The package a program imports; enum constants named after their type (COVERAGETYPE_GENERAL):
    # without the prefix, two enums' `open` values collide.
    f"--additional-properties=packageName={GO_PACKAGE},enumClassPrefix=true,withGoMod=false",
    "--global-property=apiTests=false,modelTests=false,apiDocs=false,modelDocs=false",
]
# What openapi-generator's Go generator says of this contract whatever the spec does, and why
# each is left: a new warning still fails the run.
GO_EXPECTED_WARNINGS = {
    # `type` is a Go keyword. The events' filter (`GET /events?type=`) becomes the argument
    # `type_`; the generator also renames a model it calls `type` (none of the contract's schemas).
    "type (reserved word) cannot be used as parameter name. Renamed to type_",
    "type (reserved word) cannot be used as model name. Renamed to model_type",
    # The webhook callback's operation, which no client calls, is named by the generator.
    "Empty operationId found for path: post event_. Renamed to auto-generated operationId: "
    "event_Post",
    # Said while the generator resolves the contract; it names no schema, and the client builds.
    "Failed to get the schema name: null",
    # A request's `postalcode` is a string or a number (PostalCodeInput, a oneOf of the two). The
    # generator names the two kinds by their Go types, reserved words, while it reads the oneOf;
    # the wrapper it writes (PostalCodeInput{Int32, String}) has neither name.
    "int32 (reserved word) cannot be used as model name. Renamed to model_int32",
    "string (reserved word) cannot be used as model name. Renamed to model_string",
}
OPERATION_ID = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*")


class GenerationFailed(RuntimeError):
    pass


def typescript_schema(out: Path = BUILD) -> Path:
    return out / "typescript" / "schema.d.ts"


def python_project(out: Path = BUILD) -> Path:
    return out / "python"


def go_path(out: Path = BUILD) -> Path:
    """The GOPATH the Go package is written into (Debian's Go builds it without a module proxy)."""
    return out / "go"


def go_package(out: Path = BUILD) -> Path:
    return go_path(out) / "src" / GO_PACKAGE


def pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def operation_ids(spec: dict) -> list[str]:
    return [
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def run_generator(command: list[str]) -> list[str]:
    """Run a generator; its output lines that warn, or GenerationFailed if it failed."""
    # The generators' own tools (ruff for openapi-python-client's hooks) come from this env.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        raise GenerationFailed(f"{' '.join(command[:2])} failed ({run.returncode}):\n{output}")
    return [line.strip() for line in output.splitlines() if WARNING.search(line)]


def generate_typescript(spec_path: Path, out: Path) -> list[str]:
    target = typescript_schema(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [str(tool("openapi-typescript")), str(spec_path), "--output", str(target)]
    # Each component schema also as a top-level type under its own name: `Contractor`.
    command += ["--root-types", "--root-types-no-schema-prefix"]
    return [f"openapi-typescript: {line}" for line in run_generator(command)]


def json_bodies_only(spec: dict) -> dict:
    """The contract with its request bodies as JSON alone. openapi-python-client writes one
    branch per media type of a body, each testing the body's class; a form and JSON of the same
    schema test the same class, so the form's branch, written last, would send every body
    form-encoded (and a nested field as its repr). Every operation takes JSON, which the
    client then sends."""
    trimmed = copy.deepcopy(spec)
    for path_item in trimmed["paths"].values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:  # the path's parameters
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operation["requestBody"]["content"] = {
                    "application/json": content["application/json"]
                }
    return trimmed


def generate_python(spec_path: Path, out: Path) -> list[str]:
    target = python_project(out)
    view = out / "python-client-openapi.json"
    view.parent.mkdir(parents=True, exist_ok=True)
    view.write_text(json.dumps(json_bodies_only(yaml.safe_load(spec_path.read_text()))))
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(view),
        "--output-path",
        str(target),
        "--config",
        str(PYTHON_CONFIG),
        "--meta",
        "poetry",
        "--overwrite",
        "--fail-on-warning",
    ]
    return [f"openapi-python-client: {line}" for line in run_generator(command)]


def generate_go(spec_path: Path, out: Path) -> list[str]:
    command = [
        str(Path(sys.executable).parent / "openapi-generator-cli"),
        "generate",
        "--input-spec",
        str(spec_path),
        "--generator-name",
        "go",
        "--output",
        str(go_package(out)),
        *GO_OPTIONS,
    ]
    said = [line.split(" - ", 1)[-1] for line in run_generator(command)]
    return [f"openapi-generator (go): {line}" for line in said if line not in GO_EXPECTED_WARNINGS]


def operation_problems(spec: dict) -> list[str]:
    ids = operation_ids(spec)
    problems = [
        f"operationId {op_id!r} is not a short camelCase verb on the resource (no dots)"
        for op_id in ids
        if not OPERATION_ID.fullmatch(op_id)
    ]
    problems += [
        f"operationId {op_id!r} is used twice" for op_id in sorted(set(ids)) if ids.count(op_id) > 1
    ]
    return problems


def typescript_problems(spec: dict, out: Path) -> list[str]:
    text = typescript_schema(out).read_text()
    problems = [
        f"TypeScript: no operation named {op_id!r}"
        for op_id in operation_ids(spec)
        if not re.search(rf"^    {re.escape(op_id)}: {{$", text, re.MULTILINE)
    ]
    problems += [
        f"TypeScript: schema {name!r} is not exported as a type of its own name"
        for name in spec["components"]["schemas"]
        if not re.search(rf"^export type {re.escape(name)} = ", text, re.MULTILINE)
    ]
    return problems


def exported_models(package: Path) -> list[str]:
    tree = ast.parse((package / "models" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return [ast.literal_eval(element) for element in node.value.elts]
    raise GenerationFailed(f"no __all__ in {package / 'models' / '__init__.py'}")


def literal_aliases(package: Path) -> dict[str, int]:
    """Each `Name = Literal[...]` alias of the generated models, with its number of values."""
    aliases = {}
    for module in (package / "models").glob("*.py"):
        for node in ast.parse(module.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Subscript)
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "Literal"
            ):
                values = node.value.slice
                count = len(values.elts) if isinstance(values, ast.Tuple) else 1
                aliases[node.targets[0].id] = count
    return aliases


def python_problems(spec: dict, out: Path) -> list[str]:
    package = python_project(out) / PYTHON_PACKAGE
    schemas = spec["components"]["schemas"]
    # An inline schema may be named for its place: the component, then the property.
    inline = {
        f"{name}{pascal_case(prop)}"
        for name, schema in schemas.items()
        for prop in schema.get("properties", {})
    }
    problems = []
    for model in exported_models(package):
        if re.search(r"\d", model):
            problems.append(f"Python: model {model!r} is numbered, not named by the spec")
        elif model not in schemas and model not in inline:
            problems.append(f"Python: model {model!r} is named neither by a schema nor its place")
    problems += [
        f"Python: enum {alias!r} is no component schema of the spec"
        for alias, values in literal_aliases(package).items()
        if values > 1 and alias not in schemas
    ]
    expected = {snake_case(op_id) for op_id in operation_ids(spec)}
    generated = {path.stem for path in (package / "api").glob("*/*.py") if path.stem != "__init__"}
    problems += [
        f"Python: operation function {name!r} not generated" for name in expected - generated
    ]
    problems += [
        f"Python: operation function {name!r} is not named by an operationId"
        for name in generated - expected
    ]
    return problems


def generate(out: Path = BUILD, spec_path: Path = SPEC) -> list[str]:
    """Generate the clients into `out` (Go only where Java runs openapi-generator); the problems
    found (empty when they came out clean)."""
    spec = yaml.safe_load(spec_path.read_text())
    for owned in (typescript_schema(out).parent, python_project(out), go_path(out)):
        if owned.exists():
            shutil.rmtree(owned)
    problems = operation_problems(spec)
    problems += generate_typescript(spec_path, out)
    problems += typescript_problems(spec, out)
    problems += generate_python(spec_path, out)
    problems += python_problems(spec, out)
    if shutil.which("java"):
        problems += generate_go(spec_path, out)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.clients", description=__doc__)
    parser.add_argument("--out", type=Path, default=BUILD)
    args = parser.parse_args(argv)

    ensure_node_modules()
    try:
        problems = generate(args.out)
    except GenerationFailed as error:
        print(error, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"\n{len(problems)} problem(s): fix openapi.yaml, not the output.", file=sys.stderr)
        return 1
    print(f"TypeScript types: {typescript_schema(args.out)}")
    print(f"Python package:   {python_project(args.out)}")
    if go_package(args.out).exists():
        print(f"Go package:       {go_package(args.out)}")
    else:
        print("Go package:       not generated (openapi-generator needs Java; none is installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
