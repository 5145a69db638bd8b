"""`python -m spec.node`: make node_modules/ match package-lock.json.

`npm ci` wipes and reinstalls node_modules on every call, which would cost every tox run that
needs an npm tool a few seconds; this runs it only when the lockfile changed since the last
install (or node_modules is missing), so a fresh clone still gets exactly the locked tree.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKFILE = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
# Written after a successful `npm ci`: the digest of the lockfile it installed.
STAMP = NODE_MODULES / ".ten99-lock-digest"


class NodeMissing(RuntimeError):
    """Node.js or npm is not on PATH."""


def lock_digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def is_current() -> bool:
    return STAMP.is_file() and STAMP.read_text().strip() == lock_digest()


def ensure_node_modules() -> bool:
    """Run `npm ci` unless node_modules already holds the locked tree; True when it ran."""
    if is_current():
        return False
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise NodeMissing("Node.js and npm are needed for the contract's npm tools")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    STAMP.write_text(lock_digest() + "\n")
    return True


def tool(name: str) -> Path:
    """The executable an npm package installed in node_modules/.bin."""
    return NODE_MODULES / ".bin" / name


def main() -> int:
    try:
        ran = ensure_node_modules()
    except NodeMissing as error:
        print(f"{error}: install them (Node.js 20.19+ with npm 10+).", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode
    if not ran:
        print("node_modules matches package-lock.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
