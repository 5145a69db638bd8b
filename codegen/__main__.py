"""`python -m codegen` regenerates, from openapi.yaml, the types the server is checked against:
server/contract/models.py (pydantic models) and server/contract/schemas.py (the same schemas as
TypedDicts, which cost nothing at run time: the representation functions, the bodies handed to
the domain and the webhook payloads are annotated with them, and mypy checks every use).
`python -m codegen --check` exits 1 with a diff when a committed file is stale."""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"


@dataclass(frozen=True)
class Output:
    path: Path
    options: tuple[str, ...]  # beside [tool.datamodel-codegen] in pyproject.toml


OUTPUTS = (
    Output(ROOT / "server" / "contract" / "models.py", ()),
    # Nullable fields are `X | None`, optional ones NotRequired, enums Literal strings: the
    # shapes of the JSON itself.
    Output(
        ROOT / "server" / "contract" / "schemas.py",
        (
            "--output-model-type",
            "typing.TypedDict",
            "--strict-nullable",
            "--enum-field-as-literal",
            "all",
        ),
    ),
)


def generate(output: Output) -> str:
    """Run datamodel-code-generator with the settings in pyproject.toml and the output's own,
    and return what it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / output.path.name
        # cwd=ROOT so that datamodel-codegen reads [tool.datamodel-codegen] from pyproject.toml
        subprocess.run(
            [
                sys.executable,
                "-m",
                "datamodel_code_generator",
                "--input",
                str(SPEC.relative_to(ROOT)),
                "--output",
                str(out),
                *output.options,
            ],
            cwd=ROOT,
            check=True,
        )
        return out.read_text()


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def check(output: Output, fresh: str) -> bool:
    """Whether the committed file is the fresh one; if not, print the difference."""
    name = shown(output.path)
    current = output.path.read_text() if output.path.exists() else ""
    if fresh == current:
        print(f"{name} matches openapi.yaml")
        return True
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        fresh.splitlines(keepends=True),
        fromfile=f"{name} (committed)",
        tofile=f"{name} (from openapi.yaml)",
    )
    sys.stdout.writelines(diff)
    print(f"\n{name} is stale: run `python -m codegen` and commit the result.", file=sys.stderr)
    return False


def write(output: Output, fresh: str) -> None:
    name = shown(output.path)
    if output.path.exists() and output.path.read_text() == fresh:
        print(f"{name} is up to date")
        return
    output.path.write_text(fresh)
    print(f"wrote {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)

    fresh = {output: generate(output) for output in OUTPUTS}
    if args.check:
        results = [check(output, text) for output, text in fresh.items()]
        return 0 if all(results) else 1
    for output, text in fresh.items():
        write(output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
