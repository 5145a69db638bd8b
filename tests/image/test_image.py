"""The image built from the Containerfile: its configuration, what it holds, and its default
command answering the README's first requests, run as the image's own user."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest
import redis

from tests import postgres
from tests.conftest import new_contractor
from tests.image import build, chroot
from tests.live import free_port, wait_until_up

SITE_PACKAGES = Path("opt/ten99/lib/python3.11/site-packages")
DEFAULT_COMMAND = ["ten99-server", "serve", "--host", "0.0.0.0", "--port", "8000"]
CONTRACTOR = new_contractor()  # the README's first POST
# Tools of the build, the tests and development: none belongs in the image.
NOT_SHIPPED = (
    "pip",
    "setuptools",
    "wheel",
    "hatchling",
    "pytest",
    "schemathesis",
    "ruff",
    "mypy",
    "tox",
    "datamodel-code-generator",
    "openapi-spec-validator",
    "openapi-python-client",
    "selenium",
    "kubernetes-validate",
)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)",
        (build.ROOT / "requirements.lock").read_text(),
        re.MULTILINE,
    )
    return {normalized(name): version for name, version in pins}


def installed_versions(root: Path) -> dict[str, str]:
    found = {}
    for info in (root / SITE_PACKAGES).glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        found[normalized(name)] = version
    return found


def test_config_runs_the_server_as_a_non_root_user_on_port_8000(image_config):
    user, _, group = image_config["User"].partition(":")
    assert user.isdigit() and int(user) != 0, "a numeric user, so runAsNonRoot can check it"
    assert group.isdigit() and int(group) != 0
    assert image_config["Cmd"] == DEFAULT_COMMAND
    assert not image_config.get("Entrypoint")
    assert "8000/tcp" in image_config["ExposedPorts"]
    assert image_config["WorkingDir"] == "/var/lib/ten99"
    path = next(v for k, _, v in (e.partition("=") for e in image_config["Env"]) if k == "PATH")
    assert path.split(":")[0] == "/opt/ten99/bin"


def test_holds_the_current_source_and_nothing_of_the_build(image_root):
    installed = image_root / SITE_PACKAGES / "server"
    sources = [
        path
        for path in (build.ROOT / "server").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert len(sources) > 50
    stale = [
        str(path.relative_to(build.ROOT))
        for path in sources
        if (installed / path.relative_to(build.ROOT / "server")).read_bytes() != path.read_bytes()
    ]
    assert not stale, f"the image holds other versions of {stale[:5]}"
    assert (installed / "openapi.yaml").read_bytes() == (build.ROOT / "openapi.yaml").read_bytes()

    versions = installed_versions(image_root)
    locked = locked_versions()
    assert versions["ten99policy-server"] == "0.1.0"
    del versions["ten99policy-server"]
    assert {name: locked.get(name) for name in versions} == versions, "the lock's versions"
    assert not set(versions) & set(NOT_SHIPPED)
    for leftover in ("src", "usr/bin/gcc", "usr/bin/cc", "root/.cache", "tests"):
        assert not (image_root / leftover).exists(), leftover
    assert (image_root / "usr/bin/python3").exists()


def test_build_context_is_the_package_sources_alone(image):
    """.dockerignore keeps everything but what the package is built from out of the build: no
    venv, caches, databases or git history reach the builder."""
    mounted = Path(build.podman("image", "mount", build.BUILDER).stdout.strip())
    try:
        sources = mounted / "src"
        found = {path.name for path in sources.iterdir()}
        assert found == {
            "pyproject.toml",
            "requirements.lock",
            "README.md",
            "openapi.yaml",
            "server",
            "runtime.txt",
        }
        assert not list((sources / "server").rglob("__pycache__"))
        assert not list(sources.rglob("*.db"))
    finally:
        build.podman("image", "unmount", build.BUILDER, check=False)


def test_working_folder_is_the_users_to_write(image_root, image_config):
    data = (image_root / image_config["WorkingDir"].lstrip("/")).stat()
    user, _, group = image_config["User"].partition(":")
    assert (data.st_uid, data.st_gid) == (int(user), int(group))
    assert data.st_mode & 0o200
    assert not data.st_mode & 0o022, "no one else writes there"


def test_default_command_answers_the_readme_requests(image_root, image_config, tmp_path):
    """The image's command as its default configuration runs it (SQLite in the working folder,
    the background worker inside), but on loopback and a free port."""
    key = "t9k_test_" + secrets.token_urlsafe(24)
    port = free_port()
    command = [*DEFAULT_COMMAND[:-4], "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "serve.log"
    with chroot.started(
        image_root, image_config, command, log, env={"TEN99_API_KEY": key}
    ) as server:
        base = f"http://127.0.0.1:{port}"
        up(f"{base}/healthz", server, log)
        status = Path(f"/proc/{server.pid}/status").read_text()
        uid = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
        assert uid and uid.group(1) == image_config["User"].partition(":")[0]

        assert httpx.get(f"{base}/healthz").status_code == 200
        with httpx.Client(base_url=f"{base}/api/v1", auth=(key, ""), timeout=10) as client:
            listed = client.get("/contractors")
            assert listed.status_code == 200, listed.text
            assert listed.headers["content-type"].startswith("application/json")
            assert listed.json() == []

            created = client.post("/contractors", json=CONTRACTOR)
            assert created.status_code == 201, created.text
            contractor = created.json()
            assert contractor["id"].startswith("cn_")
            assert contractor["object"] == "contractor"
            assert contractor["livemode"] is False
            assert contractor["address"]["postalcode"] == "94104"

            again = client.get("/contractors")
            assert [c["id"] for c in again.json()] == [contractor["id"]]
            assert client.get("/contractors", auth=("t9k_test_wrong", "")).status_code == 401

        # uvicorn re-raises the signal it stopped for, once it has finished.
        assert chroot.stopped(server) in (0, 128 + 15, -15)
        assert "Application shutdown complete" in log.read_text(), log.read_text()[-3000:]

    database = image_root / image_config["WorkingDir"].lstrip("/") / "ten99policy.db"
    assert database.stat().st_uid == int(image_config["User"].partition(":")[0])


def on_port(command: list[str], port: int) -> list[str]:
    """A manifest's command, listening on loopback and `port` instead."""
    changed = list(command)
    changed[changed.index("--host") + 1] = "127.0.0.1"
    changed[changed.index("--port") + 1] = str(port)
    return changed


def manifest_container(manifests: list[dict], kind: str, name: str) -> dict:
    (workload,) = [o for o in manifests if o["kind"] == kind and o["metadata"]["name"] == name]
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def up(url: str, process, log: Path) -> None:
    try:
        wait_until_up(url, process, timeout=90, log=log)
    except RuntimeError as down:
        pytest.fail(str(down))


def test_runs_as_the_kubernetes_pods_do(image_root, image_config, manifests, tmp_path):
    """The Job's, the API's and the worker's commands and settings from the rendered manifests,
    on a read-only root with /tmp alone writable, against this machine's PostgreSQL and Redis:
    the servers refuse the schema until the Job has migrated it, then serve, and stop on
    SIGTERM."""
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    redis_url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(redis_url, socket_timeout=3).ping()
    except redis.RedisError as unreachable:
        pytest.skip(f"no Redis at {redis_url}: {unreachable}")
    (config,) = [o["data"] for o in manifests if o["kind"] == "ConfigMap"]
    api = manifest_container(manifests, "Deployment", "ten99-api")
    worker = manifest_container(manifests, "Deployment", "ten99-worker")
    job = manifest_container(manifests, "Job", "ten99-migrate")
    key = "t9k_test_" + secrets.token_urlsafe(24)

    def env(container: dict) -> dict[str, str]:
        given = {e["name"]: e["value"] for e in container.get("env", [])}
        return {**config, **secret, **given}

    with postgres.fresh_database("ten99_image") as url:
        secret = {"TEN99_DATABASE_URL": url, "TEN99_REDIS_URL": redis_url, "TEN99_API_KEY": key}
        api_port, worker_port = free_port(), free_port()
        api_command = on_port(api["command"], api_port)
        worker_command = on_port(worker["command"], worker_port)

        for command, container in ((api_command, api), (worker_command, worker)):
            early = chroot.run(
                image_root, image_config, command, env=env(container), read_only=True
            )
            assert early.returncode == 1, early.stdout + early.stderr
            assert len(early.stderr.strip().splitlines()) == 1, early.stderr
            assert "migrate" in early.stderr

        for attempt in ("from an empty database", "nothing to do"):
            migrated = chroot.run(
                image_root, image_config, job["command"], env=env(job), read_only=True
            )
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
            assert attempt in migrated.stdout

        api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
        with (
            chroot.started(
                image_root, image_config, api_command, api_log, env=env(api), read_only=True
            ) as api_process,
            chroot.started(
                image_root,
                image_config,
                worker_command,
                worker_log,
                env=env(worker),
                read_only=True,
            ) as worker_process,
        ):
            up(f"http://127.0.0.1:{api_port}/readyz", api_process, api_log)
            up(f"http://127.0.0.1:{worker_port}/readyz", worker_process, worker_log)
            with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as client:
                assert client.get("/healthz").status_code == 200
                created = client.post("/api/v1/contractors", json=CONTRACTOR, auth=(key, ""))
                assert created.status_code == 201, created.text
                assert client.get("/metrics").status_code == 200
            assert httpx.get(f"http://127.0.0.1:{worker_port}/metrics").status_code == 200

            assert chroot.stopped(api_process) in (0, 128 + 15, -15), api_log.read_text()
            assert chroot.stopped(worker_process) == 0, worker_log.read_text()
    # Nothing was written outside /tmp, which went with the processes.
    assert not (image_root / image_config["WorkingDir"].lstrip("/") / "ten99policy.db").exists()
