"""`python -m codegen` regenerates server/models.py from openapi.yaml;
`python -m codegen --check` exits 1 with a diff when the committed file is stale."""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
MODELS = ROOT / "server" / "models.py"


def generate() -> str:
    """Run datamodel-code-generator with the settings in pyproject.toml and return its output."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "models.py"
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
            ],
            cwd=ROOT,
            check=True,
        )
        return out.read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if server/models.py is stale")
    args = parser.parse_args(argv)

    fresh = generate()
    current = MODELS.read_text() if MODELS.exists() else ""
    if not args.check:
        if fresh != current:
            MODELS.write_text(fresh)
            print(f"wrote {MODELS}")
        else:
            print(f"{MODELS} is up to date")
        return 0
    if fresh == current:
        print(f"{MODELS} matches openapi.yaml")
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        fresh.splitlines(keepends=True),
        fromfile="server/models.py (committed)",
        tofile="server/models.py (from openapi.yaml)",
    )
    sys.stdout.writelines(diff)
    print(
        "\nserver/models.py is stale: run `python -m codegen` and commit the result.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
