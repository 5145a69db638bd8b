"""The coverage gate: every documented status of every implemented operation was observed.

Reads the HAR file of a Schemathesis run and openapi.yaml; an operation counts as implemented
when its handler resolves (the others answer 501 and stay out of the run).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from connexion.utils import get_function_from_name

from server.contract.spec import HTTP_METHODS, load_spec, path_patterns
from server.middleware.resolver import handler_name

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    statuses: frozenset[str]
    pattern: re.Pattern


def load_operations(spec: dict) -> list[Operation]:
    operations = []
    for template, pattern, item in path_patterns(spec):
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            operations.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=template,
                    tag=op["tags"][0],
                    statuses=frozenset(str(s) for s in op["responses"]),
                    pattern=pattern,
                )
            )
    return operations


def is_implemented(operation: Operation) -> bool:
    """Whether the handler exists, named the way server.resolver.TagResolver names it."""
    try:
        get_function_from_name(handler_name("server.api", operation.tag, operation.operation_id))
    except (ImportError, AttributeError):
        return False
    return True


def implemented_operations(spec: dict | None = None) -> list[Operation]:
    spec = spec or load_spec()
    return [op for op in load_operations(spec) if is_implemented(op)]


def observed_statuses(har_path: Path, operations: list[Operation]) -> dict[str, set[str]]:
    observed: dict[str, set[str]] = {op.operation_id: set() for op in operations}
    entries = json.loads(har_path.read_text())["log"]["entries"]
    # A path without parameters (/assignments/extend) is not a value of its sibling's
    # parameter (/assignments/{assignment_id}): requests to it belong to it alone.
    static = [op for op in operations if "{" not in op.path]
    for entry in entries:
        method = entry["request"]["method"].upper()
        path = urlparse(entry["request"]["url"]).path
        status = str(entry["response"]["status"])
        exact = {op.path for op in static if op.pattern.match(path)}
        for op in operations:
            if exact and op.path not in exact:
                continue
            if op.method == method and op.pattern.match(path):
                observed[op.operation_id].add(status)
                break
    return observed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("har", type=Path, help="the HAR report of the Schemathesis run")
    parser.add_argument("--config", type=Path, default=HERE / "gate.toml")
    args = parser.parse_args(argv)

    exempt = tomllib.loads(args.config.read_text()).get("exempt", {})
    operations = implemented_operations()
    observed = observed_statuses(args.har, operations)
    missing = []
    print(f"{'operation':32} {'documented':28} {'observed'}")
    for op in operations:
        wanted = sorted(op.statuses - set(exempt))
        seen = observed[op.operation_id]
        print(f"{op.operation_id:32} {','.join(sorted(op.statuses)):28} {','.join(sorted(seen))}")
        missing += [(op, status) for status in wanted if status not in seen]
        undocumented = sorted(seen - op.statuses)
        if undocumented:
            missing += [(op, f"undocumented {s}") for s in undocumented]
    if not operations:
        print("no implemented operations found", file=sys.stderr)
        return 1
    if missing:
        print("\nconformance gate FAILED: not observed:", file=sys.stderr)
        for op, status in missing:
            print(f"  {op.operation_id} ({op.method} {op.path}): {status}", file=sys.stderr)
        return 1
    print(
        f"\nconformance gate passed: {len(operations)} operations, every documented status "
        f"observed (exempt: {', '.join(sorted(exempt)) or 'none'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
