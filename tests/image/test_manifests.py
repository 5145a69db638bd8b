"""The Kubernetes manifests (deploy/, rendered by kubectl's kustomize) and compose.yaml: valid
for the tools that read them, and saying what the server needs (its commands, probes, user,
settings)."""

from __future__ import annotations

import base64
import copy
import os
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

from server.core.settings import Settings, SettingsError, env_name
from tests.image import build

# The newest Kubernetes kubernetes-validate knows, and an older one still in wide use.
KUBERNETES_VERSIONS = (kubernetes_validate.latest_version(), "1.30.0")
COMMON_LABELS = {
    "app.kubernetes.io/name": "ten99-server",
    "app.kubernetes.io/part-of": "ten99policy",
}
COMPOSE = build.ROOT / "compose.yaml"
KNOWN_SETTINGS = {env_name(field) for field in Settings.model_fields}


def the(manifests: list[dict], kind: str, name: str) -> dict:
    """The one object of `kind` named `name`, or whose generated name starts with `name-`."""
    found = [
        obj
        for obj in manifests
        if obj["kind"] == kind
        and re.fullmatch(rf"{name}(-[a-z0-9]{{10}})?", obj["metadata"]["name"])
    ]
    assert len(found) == 1, f"{kind} {name}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def container(workload: dict) -> dict:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def env_of(workload: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(workload).get("env", [])}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def image_user() -> int:
    """The numeric user of the Containerfile's final stage."""
    users = re.findall(r"^USER\s+(\d+)", (build.ROOT / "Containerfile").read_text(), re.MULTILINE)
    return int(users[-1])


def settings_from(values: dict[str, str], monkeypatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("TEN99_")]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


# Kubernetes


def test_renders_the_api_the_worker_and_the_migration(manifests):
    generated = {"ConfigMap", "Secret"}  # named with a hash of their content
    names = sorted(
        (obj["kind"], obj["metadata"]["name"].rsplit("-", 1)[0])
        if obj["kind"] in generated
        else (obj["kind"], obj["metadata"]["name"])
        for obj in manifests
    )
    assert names == [
        ("ConfigMap", "ten99-config"),
        ("Deployment", "ten99-api"),
        ("Deployment", "ten99-worker"),
        ("Job", "ten99-migrate"),
        ("PodDisruptionBudget", "ten99-api"),
        ("Secret", "ten99-secrets"),
        ("Service", "ten99-api"),
    ]
    for obj in manifests:
        assert matches(COMMON_LABELS, obj["metadata"]["labels"]), obj["metadata"]["name"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_valid_for_kubernetes_refusing_unknown_fields(manifests, version):
    for obj in manifests:
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validation_refuses_an_unknown_field(manifests):
    api = copy.deepcopy(the(manifests, "Deployment", "ten99-api"))
    container(api)["livenesProbe"] = container(api)["livenessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(api, KUBERNETES_VERSIONS[0], strict=True)


def test_api_serves_two_replicas_with_probes_and_no_worker(manifests):
    api = the(manifests, "Deployment", "ten99-api")
    spec = api["spec"]["template"]["spec"]
    server = container(api)
    assert api["spec"]["replicas"] == 2
    assert server["command"] == ["ten99-server", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert env_of(api) == {"TEN99_WORKER": "off", "TEN99_MIGRATE_AT_START": "off"}
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    assert ports == {"http": 8000}
    assert server["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert server["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert 30 <= spec["terminationGracePeriodSeconds"] <= 60
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_worker_and_migration_commands(manifests):
    worker = the(manifests, "Deployment", "ten99-worker")
    assert container(worker)["command"][:2] == ["ten99-server", "worker"]
    assert env_of(worker) == {"TEN99_MIGRATE_AT_START": "off"}
    port = container(worker)["command"][container(worker)["command"].index("--port") + 1]
    assert container(worker)["ports"] == [{"name": "probes", "containerPort": int(port)}]
    assert container(worker)["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}

    job = the(manifests, "Job", "ten99-migrate")
    assert container(job)["command"] == ["ten99-server", "migrate"]
    assert "TEN99_MIGRATE_AT_START" not in env_of(job)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0


@pytest.mark.parametrize(
    "kind, name",
    [("Deployment", "ten99-api"), ("Deployment", "ten99-worker"), ("Job", "ten99-migrate")],
)
def test_pods_run_unprivileged_on_a_read_only_root_with_their_settings(manifests, kind, name):
    workload = the(manifests, kind, name)
    spec = workload["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == image_user()
    assert spec["automountServiceAccountToken"] is False
    security = container(workload)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # /tmp: the metrics' files and scratch space of the server's processes.
    mounts = {m["mountPath"]: m["name"] for m in container(workload)["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    resources = container(workload)["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys() and "memory" in resources["limits"]
    assert container(workload)["image"] == "ten99-server:latest"
    sources = container(workload)["envFrom"]
    config = the(manifests, "ConfigMap", "ten99-config")["metadata"]["name"]
    secret = the(manifests, "Secret", "ten99-secrets")["metadata"]["name"]
    assert sources == [{"configMapRef": {"name": config}}, {"secretRef": {"name": secret}}]


def test_service_and_disruption_budget_select_the_api_pods_alone(manifests):
    api = the(manifests, "Deployment", "ten99-api")
    others = [the(manifests, "Deployment", "ten99-worker"), the(manifests, "Job", "ten99-migrate")]
    service = the(manifests, "Service", "ten99-api")
    budget = the(manifests, "PodDisruptionBudget", "ten99-api")
    for selector in (service["spec"]["selector"], budget["spec"]["selector"]["matchLabels"]):
        assert matches(selector, api["spec"]["template"]["metadata"]["labels"])
        for other in others:
            assert not matches(selector, other["spec"]["template"]["metadata"]["labels"])
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    assert budget["spec"]["minAvailable"] == 1


def test_settings_are_ones_the_server_accepts(manifests, monkeypatch):
    config = the(manifests, "ConfigMap", "ten99-config")["data"]
    secret = {
        name: base64.b64decode(value).decode()
        for name, value in the(manifests, "Secret", "ten99-secrets")["data"].items()
    }
    named = set(config) | set(secret)
    for kind, name in (("Deployment", "ten99-api"), ("Deployment", "ten99-worker")):
        named |= set(env_of(the(manifests, kind, name)))
    assert named <= KNOWN_SETTINGS, named - KNOWN_SETTINGS
    assert {"TEN99_DATABASE_URL", "TEN99_REDIS_URL", "TEN99_API_KEY"} <= secret.keys()
    settings = settings_from(config | {**secret, "TEN99_API_KEY": "t9k_test_x"}, monkeypatch)
    assert settings.log_format == "json"
    assert settings.public_url and settings.public_url.startswith("https://")
    assert settings.database_url.startswith("postgresql")
    # The placeholder key fails closed: a deployment that kept it does not start.
    with pytest.raises(SettingsError, match="TEN99_API_KEY"):
        settings_from(config | secret, monkeypatch)


def test_image_name_is_overridable(kubectl, tmp_path):
    overlay = tmp_path / "kustomization.yaml"
    # `bases`, which kubectl's older kustomize needs for a folder outside this one.
    overlay.write_text(
        yaml.safe_dump(
            {
                "bases": [os.path.relpath(build.ROOT / "deploy", tmp_path)],
                "images": [
                    {
                        "name": "ten99-server",
                        "newName": "registry.example.com/team/ten99-server",
                        "newTag": "1.2.3",
                    }
                ],
            }
        )
    )
    done = subprocess.run(
        [kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    images = re.findall(r"^\s+image: (\S+)$", done.stdout, re.MULTILINE)
    assert images == ["registry.example.com/team/ten99-server:1.2.3"] * 3


# Compose


def interpolated(value, env: dict[str, str]):
    """compose's ${NAME}, ${NAME:-default} and ${NAME:?error} in every string of a parsed file,
    as compose reads them."""
    if isinstance(value, dict):
        return {key: interpolated(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, value)


@pytest.fixture(scope="module")
def compose_file() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(compose_file) -> dict:
    return interpolated(compose_file, {"POSTGRES_PASSWORD": "secret"})


def test_compose_needs_a_database_password(compose_file):
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolated(compose_file, {})


def test_compose_migrates_then_serves_and_works(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["postgres"]["image"] == "docker.io/library/postgres:17"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["migrate"]["command"] == ["ten99-server", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    api = services["api"]
    assert api["command"] == [
        *("ten99-server", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2")
    ]
    assert api["ports"] == ["8000:8000"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    worker = services["worker"]
    assert worker["command"][:2] == ["ten99-server", "worker"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["environment"]["TEN99_MIGRATE_AT_START"] == "off"
    assert api["environment"]["TEN99_WORKER"] == "off"
    for name in ("migrate", "api", "worker"):
        built = services[name]["build"]
        assert built["dockerfile"] == "Containerfile" and built["context"] == "."
        assert built["args"]["BASE"] == build.BASE_IMAGE
        assert services[name]["image"] == services["api"]["image"]


def test_compose_settings_are_ones_the_server_accepts(compose, monkeypatch):
    for name in ("migrate", "api", "worker"):
        environment = compose["services"][name]["environment"]
        assert set(environment) <= KNOWN_SETTINGS, set(environment) - KNOWN_SETTINGS
        settings = settings_from(environment, monkeypatch)
        assert settings.database_url.startswith("postgresql+psycopg://ten99:secret@postgres:")
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.migrate_at_start is False
        assert settings.worker is (name != "api")


def test_compose_file_is_valid_for_compose(tmp_path):
    """docker-compose's own check of the file (offline: `config` reaches no engine), and of a
    copy with a misspelt key, which it must refuse."""
    tool = build.tool("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    env = {**os.environ, "POSTGRES_PASSWORD": "secret"}

    def check(path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [tool, "--file", str(path), "--project-directory", str(build.ROOT), "config", "-q"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    done = check(COMPOSE)
    assert done.returncode == 0, done.stderr
    misspelt = tmp_path / "compose.yaml"
    misspelt.write_text(COMPOSE.read_text().replace("healthcheck:", "healthchek:", 1))
    assert check(misspelt).returncode != 0
