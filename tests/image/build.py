"""The image, built as CI builds it: a Debian root filesystem made by mmdebstrap and imported into
podman as the Containerfile's BASE, then the Containerfile built on it.

The root filesystem is kept outside the checkout, in ${XDG_CACHE_HOME:-~/.cache}/ten99-server,
under a name that hashes what it holds (release, packages, options, architecture), and its
podman image under a tag with the same hash: a later run, from any clone, imports or makes it
only when that recipe changes. The Containerfile itself is built on every run; podman reuses its
layers only where their inputs (the files copied, by content) are unchanged, so the image tested
is always the current source's. To take Debian's newer packages, delete the cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
# Essential packages and apt, and what the image needs on top.
VARIANT = "apt"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Documentation, manual pages and translations serve no one in a server's image; the
# copyright files stay.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)
BASE_REPOSITORY = "localhost/ten99-base"
BASE_IMAGE = f"{BASE_REPOSITORY}:{SUITE}"  # the Containerfile's default BASE
IMAGE = "localhost/ten99-server:ci"
# The builder stage, tagged too, so that the run after next can remove what this one leaves.
BUILDER = "localhost/ten99-server-builder:ci"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
APT_SOURCES = Path("/etc/apt")


class BuildFailed(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ten99-server"


def run(*argv: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """`argv` with no standard input (mmdebstrap reads its sources from a pipe otherwise); its
    output in the error when it fails."""
    done = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-4000:]
        raise BuildFailed(f"{' '.join(argv[:3])}... exited with {done.returncode}:\n{output}")
    return done


def podman(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    return run("podman", *args, timeout=timeout, check=check)


def image_id(name: str) -> str | None:
    found = podman("image", "inspect", "--format", "{{.Id}}", name, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def base_key() -> str:
    """A hash of what the root filesystem holds (not of where it was downloaded from)."""
    if shutil.which("dpkg"):
        architecture = run("dpkg", "--print-architecture").stdout.strip()
    else:
        architecture = platform.machine()
    recipe = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(PACKAGES),
        "dpkg": list(DPKG_OPTIONS),
        "architecture": architecture,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def _source_entries() -> list[tuple[str, list[str]]]:
    """(URI, suites) of each enabled entry of this machine's apt sources, in both formats."""
    entries: list[tuple[str, list[str]]] = []
    files = [APT_SOURCES / "sources.list", *sorted((APT_SOURCES / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for paragraph in re.split(r"\n\s*\n", text):
                fields = dict(
                    (key.strip().lower(), value.strip())
                    for key, _, value in (
                        line.partition(":")
                        for line in paragraph.splitlines()
                        if ":" in line and not line.lstrip().startswith("#")
                    )
                )
                if fields.get("enabled", "yes").lower() == "no" or "uris" not in fields:
                    continue
                if "deb" not in fields.get("types", "").split():
                    continue
                suites = fields.get("suites", "").split()
                entries += [(uri, suites) for uri in fields["uris"].split()]
        elif path.name == "sources.list" or path.suffix == ".list":
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] == "deb":
                    entries.append((words[1], [words[2]]))
    return entries


def debian_sources() -> list[str]:
    """apt lines for the release, its updates and its security updates, from the Debian mirrors
    this machine uses (deb.debian.org where it names none)."""
    mirror, security = DEFAULT_MIRROR, DEFAULT_SECURITY_MIRROR
    entries = _source_entries()
    for uri, suites in entries:
        security_suite = any(suite.endswith("-security") for suite in suites)
        if "debian" in uri and "security" not in uri and suites and not security_suite:
            mirror = uri.rstrip("/")
            break
    for uri, suites in entries:
        if any(suite.endswith("-security") for suite in suites):
            security = uri.rstrip("/")
            break
    return [
        f"deb {mirror} {SUITE} main",
        f"deb {mirror} {SUITE}-updates main",
        f"deb {security} {SUITE}-security main",
    ]


def make_root_filesystem(tarball: Path) -> None:
    """The base's root filesystem as a tarball, written whole or not at all."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial.tar")
    run(
        "mmdebstrap",
        f"--variant={VARIANT}",
        f"--include={','.join(PACKAGES)}",
        *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
        "--format=tar",
        SUITE,
        str(partial),
        *debian_sources(),
        timeout=1200,
    )
    partial.replace(tarball)
    # One recipe's tarball at a time: older ones are only disk.
    for old in tarball.parent.glob(f"{SUITE}-*.tar"):
        if old != tarball:
            old.unlink()


def ensure_base() -> str:
    """The base image's tag, imported (and its root filesystem made) only where missing."""
    key = base_key()
    tag = f"{BASE_REPOSITORY}:{SUITE}-{key}"
    if image_id(tag) is None:
        tarball = cache_dir() / "base" / f"{SUITE}-{key}.tar"
        if not tarball.is_file():
            make_root_filesystem(tarball)
        podman("import", "--message", f"mmdebstrap {SUITE} {' '.join(PACKAGES)}", str(tarball), tag)
    # `podman build .` with the Containerfile's default BASE then works here too.
    podman("tag", tag, BASE_IMAGE)
    return tag


def _build_volumes() -> list[str]:
    """This machine's CA certificates, mounted into the build's RUN steps only (never into a
    layer), so that pip there trusts what this machine trusts (a proxy's CA, say)."""
    bundle = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        return []
    return ["--volume", f"{bundle.resolve()}:/etc/ssl/certs/ca-certificates.crt:ro"]


def build_image(base: str) -> str:
    """The Containerfile built on `base`; returns the new image's ID. The images the previous
    run left under the same tags are removed, with their layers no other image uses."""
    previous = {name: image_id(name) for name in (IMAGE, BUILDER)}
    common = [
        "build",
        "--isolation",
        "chroot",
        "--layers",
        "--build-arg",
        f"BASE={base}",
        "--file",
        str(ROOT / "Containerfile"),
        *_build_volumes(),
    ]
    podman(*common, "--target", "builder", "--tag", BUILDER, str(ROOT))
    with tempfile.TemporaryDirectory() as scratch:
        iidfile = Path(scratch) / "iid"
        podman(*common, "--tag", IMAGE, "--iidfile", str(iidfile), str(ROOT))
        built = iidfile.read_text().strip().removeprefix("sha256:")
    for name, old in previous.items():
        if old and old != image_id(name):
            podman("rmi", old, check=False)
    return built


def tool(name: str) -> str | None:
    """`name` on PATH, or in the sbin folders a non-login root shell may leave out."""
    return shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
