"""The image's tests (tox -e image): its build, its configuration, and its command run inside its
own filesystem; the Kubernetes manifests and compose.yaml beside it.

Podman cannot start containers on every machine this runs on, so the image's command runs with
chroot in the filesystem of a container created (not started) from it, as the image's user,
with the image's environment and working folder. That needs root; without it, or without the
tools (.ci/run installs them from Debian's packages), these tests skip, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.image import build


def require(name: str, package: str) -> str:
    path = build.tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; .ci/run installs it)")
    return path


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{why} needs root")


@pytest.fixture(scope="session")
def kubectl() -> str:
    return require("kubectl", "kubernetes-client")


@pytest.fixture(scope="session")
def manifests(kubectl) -> list[dict]:
    """deploy/ rendered by kubectl's kustomize, one dict per object."""
    done = subprocess.run(
        [kubectl, "kustomize", str(build.ROOT / "deploy")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


@pytest.fixture(scope="session")
def image() -> str:
    """The ID of the image built from the current source, on the cached Debian base."""
    require("podman", "podman")
    require("mmdebstrap", "mmdebstrap")
    require_root("building and running the image here (mmdebstrap, podman, chroot)")
    return build.build_image(build.ensure_base())


@pytest.fixture(scope="session")
def image_config(image) -> dict:
    inspected = json.loads(build.podman("image", "inspect", image).stdout)
    return inspected[0]["Config"]


@pytest.fixture
def image_root(image) -> Iterator[Path]:
    """The writable filesystem of a container created from the image, never started: each test
    gets a fresh one, removed afterwards."""
    require_root("mounting the image's filesystem")
    # Containers a killed run left behind would keep their images from being removed.
    stale = build.podman("ps", "--all", "--quiet", "--filter", "label=ten99-image-test")
    for container in stale.stdout.split():
        build.podman("rm", "--force", container, check=False)
    container = build.podman("create", "--label", "ten99-image-test", image).stdout.strip()
    try:
        yield Path(build.podman("mount", container).stdout.strip())
    finally:
        build.podman("umount", container, check=False)
        build.podman("rm", "--force", container, check=False)
