"""openapi.yaml: where it is, and how its path templates match request paths."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import urlparse

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # server/
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def spec_path() -> Path:
    """openapi.yaml: packaged beside the code in a wheel, at the repository root otherwise."""
    packaged = PACKAGE_DIR / "openapi.yaml"
    return packaged if packaged.exists() else PACKAGE_DIR.parent / "openapi.yaml"


# libyaml's parser, where PyYAML was built with it: ten times the pure-Python one's speed, and
# every process `serve` starts parses the contract once.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def load_spec() -> dict:
    return yaml.load(spec_path().read_text(), Loader=SAFE_LOADER)


def base_path(spec: dict) -> str:
    """The path the spec's first server puts before every path of the spec (`/api/v1`)."""
    return urlparse(spec.get("servers", [{}])[0].get("url", "")).path.rstrip("/")


def path_patterns(spec: dict) -> list[tuple[str, re.Pattern, dict]]:
    """(template, regex of the full request path, path item) for every path of the spec."""
    base = base_path(spec)
    patterns = []
    for template, item in spec.get("paths", {}).items():
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base + template))
        patterns.append((template, re.compile(f"^{regex}/?$"), item))
    return patterns
