"""`python -m spec.breaking`: the breaking-change gate.

Compares openapi.yaml with the latest released contract in spec/released/ through Redocly CLI's
`diff` (its `diff-recommended` rules, named in spec/redocly-diff.yaml), and fails on a breaking
change (one that requires a major version) unless `info.version` has a new major number and
spec/CHANGELOG.md has a section for that version which says it is breaking.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from server.contract.spec import HTTP_METHODS
from spec.node import ROOT, NodeMissing, ensure_node_modules, tool

SPEC = ROOT / "openapi.yaml"
RELEASED = ROOT / "spec" / "released"
CHANGELOG = ROOT / "spec" / "CHANGELOG.md"
DIFF_CONFIG = ROOT / "spec" / "redocly-diff.yaml"


@dataclass(frozen=True)
class Break:
    """One breaking change, as Redocly names it."""

    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} ({self.rule})"


@dataclass
class GateResult:
    base: Path
    base_version: str
    revision_version: str
    breaks: list[Break] = field(default_factory=list)
    compatible_changes: int = 0
    # Why the breaks are not allowed; None when the gate passes.
    refusal: str | None = None

    @property
    def passed(self) -> bool:
        return self.refusal is None


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def major(version: str) -> int | None:
    match = re.match(r"v?(\d+)\.", version)
    return int(match.group(1)) if match else None


def latest_release(released: Path = RELEASED) -> Path:
    """The released contract with the highest version: spec/released/<version>.yaml."""
    candidates = sorted(released.glob("*.yaml"), key=lambda path: version_key(path.stem))
    if not candidates:
        raise FileNotFoundError(f"no released contract in {released}")
    return candidates[-1]


def changelog_section(changelog: Path, version: str) -> str | None:
    """The text under the `## <version>` heading of the changelog, or None if it has none."""
    heading = re.compile(rf"^##\s+v?{re.escape(version)}(?![\w.])")
    lines = changelog.read_text().splitlines() if changelog.exists() else []
    for start, line in enumerate(lines):
        if heading.match(line):
            section = [line]
            for following in lines[start + 1 :]:
                if re.match(r"^##\s", following):
                    break
                section.append(following)
            return "\n".join(section)
    return None


def describe_location(pointer: str) -> str:
    """`#/paths/~1contractors/get/responses/200/...` -> `GET /contractors responses/200/...`."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("#/").split("/")]
    if len(parts) >= 3 and parts[0] == "paths" and parts[2] in HTTP_METHODS:
        operation = f"{parts[2].upper()} {parts[1]}"
        return " ".join([operation, "/".join(parts[3:])]).strip()
    return "/".join(parts)


def redocly_diff(base: Path, revision: Path) -> dict:
    """Redocly's JSON diff report of two API descriptions."""
    with tempfile.TemporaryDirectory(prefix="ten99-diff-") as tmp:
        report = Path(tmp) / "diff.json"
        command = [
            str(tool("redocly")),
            "diff",
            str(base),
            str(revision),
            "--config",
            str(DIFF_CONFIG),
            "--lint-config",
            "off",
            "--format",
            "json",
            "--output",
            str(report),
            # The verdict is ours (a major change may be allowed); Redocly only reports.
            "--fail-on",
            "none",
        ]
        # Redocly CLI sends usage telemetry unless told not to.
        env = {**os.environ, "REDOCLY_TELEMETRY": "off"}
        run = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if run.returncode != 0 or not report.exists():
            raise RuntimeError(f"redocly diff failed ({run.returncode}):\n{run.stdout}{run.stderr}")
        return json.loads(report.read_text())


def breaks_in(report: dict) -> list[Break]:
    found: list[Break] = []
    for change in report.get("changes", []):
        if change.get("impact") != "major":
            continue
        where = describe_location(change["path"])
        verdicts = [v for v in change.get("verdicts", []) if v.get("impact") == "major"]
        if not verdicts:
            found.append(Break(where, change.get("kind", "changed"), "a breaking change"))
        for verdict in verdicts:
            found.append(Break(where, verdict["ruleId"], verdict["message"]))
    return list(dict.fromkeys(found))


def shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def check(
    revision: Path = SPEC, base: Path | None = None, changelog: Path = CHANGELOG
) -> GateResult:
    base = base or latest_release()
    report = redocly_diff(base, revision)
    versions = report.get("infoVersions", {})
    summary = report.get("summary", {})
    result = GateResult(
        base=base,
        base_version=str(versions.get("base", "")),
        revision_version=str(versions.get("revision", "")),
        breaks=breaks_in(report),
        compatible_changes=summary.get("minor", 0) + summary.get("patch", 0),
    )
    if not result.breaks:
        return result
    old, new = major(result.base_version), major(result.revision_version)
    if old is None or new is None:
        result.refusal = (
            f"cannot compare the versions {result.base_version!r} and "
            f"{result.revision_version!r}: info.version must be MAJOR.MINOR.PATCH."
        )
        return result
    if new <= old:
        next_major = f"{old + 1}.0.0"
        result.refusal = (
            f"info.version {result.revision_version} keeps the major number of the released "
            f"{result.base_version}. Undo the breaking changes, or release {next_major}: set "
            f"info.version to {next_major} and add a '## {next_major}' section to "
            f"{shown(changelog)} that says what breaks."
        )
        return result
    section = changelog_section(changelog, result.revision_version)
    if section is None:
        result.refusal = (
            f"info.version is the new major {result.revision_version}, but {shown(changelog)} has "
            f"no '## {result.revision_version}' section saying what breaks."
        )
    elif "breaking" not in section.lower():
        result.refusal = (
            f"the '## {result.revision_version}' section of {shown(changelog)} must say that the "
            "release is breaking, and what breaks."
        )
    return result


def report_text(result: GateResult, revision: Path) -> str:
    lines = [
        f"Breaking-change gate: {shown(revision)} ({result.revision_version}) against the "
        f"released {result.base_version} ({shown(result.base)})"
    ]
    lines += [f"  BREAKING {item}" for item in result.breaks]
    lines.append(
        f"{len(result.breaks)} breaking, {result.compatible_changes} compatible change(s)."
    )
    if result.refusal:
        lines.append(f"FAILED: {result.refusal}")
    elif result.breaks:
        lines.append(f"Passed: the breaking changes are released as {result.revision_version}.")
    else:
        lines.append("Passed: no breaking change.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec.breaking", description=__doc__)
    parser.add_argument("spec", nargs="?", type=Path, default=SPEC)
    parser.add_argument("--base", type=Path, help="default: the latest spec/released/*.yaml")
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    args = parser.parse_args(argv)
    try:
        ensure_node_modules()
    except NodeMissing as error:
        print(f"{error}.", file=sys.stderr)
        return 1
    try:
        result = check(args.spec, args.base, args.changelog)
    except (RuntimeError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    print(report_text(result, args.spec))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
