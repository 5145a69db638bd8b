"""Shared fixtures: the real app over a real database, and API keys to call it with.

Databases: a test runs on SQLite, in a file restored before each test from a template migrated
once per run. A test marked `storage` depends on the database itself (its statements, locks,
concurrency, JSON columns, migrations) and runs twice: on SQLite and on a PostgreSQL database of
this run, emptied before each test; that second run is marked `postgres`, and skips, saying
why, where no server answers. `pytest -m "not postgres"` leaves PostgreSQL out.

Live servers: `live_server` is one `ten99-server serve` process per database kind for the whole
run; each test takes a key of a new account of its own (`live_server.new_key()`).

Time: a test that needs the sandbox's time to stand still or move uses a test clock, as a
sandbox user would (`sandbox_clock`); one that needs the server's own wall clock (leases,
retries of background work, idempotency keys' lifetime) freezes it with `wall_clock`.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from pathlib import Path
from unittest import mock

import pytest

from server import worker
from server.app import create_app
from server.core import clock
from server.core.principals import Environment
from server.core.settings import Settings
from server.domain import keys
from server.pdf import sample
from server.sandbox import MEETS_THE_EXAMPLE, examples
from server.store.db import Database
from server.store.keys import KeyStore
from server.store.schema import migrate
from tests import postgres
from tests.live import LiveServer, eventually, running_server

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def pytest_generate_tests(metafunc):
    """A test marked `storage` runs on both databases; every other test on SQLite alone."""
    if "database_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "storage"
    ):
        kinds = [SQLITE, pytest.param(POSTGRESQL, marks=pytest.mark.postgres)]
        metafunc.parametrize("database_kind", kinds, indirect=True)


def pytest_collection_modifyitems(items):
    for item in items:
        if "postgres_url" in item.fixturenames:
            item.add_marker(pytest.mark.postgres)
        if {"live", "live_server", "live_postgres_server"} & set(item.fixturenames):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def database_kind(request) -> str:
    return getattr(request, "param", SQLITE)


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database of this run, migrated once."""
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with postgres.fresh_database() as url:
        database = Database(url)
        migrate(database.engine)
        database.dispose()
        yield url


def restore(template: Path, url: str) -> None:
    """Make the SQLite database at `url` a copy of `template`, through SQLite's backup API:
    connections the app keeps open on it see the copy as they would any other write."""
    source = sqlite3.connect(template)
    target = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database holding only the seeded catalogue, made once per run."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    database = Database(f"sqlite:///{path}")
    migrate(database.engine)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/api.db"


@pytest.fixture
def database_url(request, database_kind) -> str:
    """A migrated database holding only the seeded catalogue: SQLite's restored from the run's
    template, or the run's PostgreSQL database emptied, before each test."""
    if database_kind == SQLITE:
        url = request.getfixturevalue("sqlite_url")
        restore(request.getfixturevalue("sqlite_template"), url)
        return url
    url = request.getfixturevalue("postgres_url")
    postgres.empty(url)
    return url


@pytest.fixture(scope="session")
def examples_template(sqlite_template, tmp_path_factory) -> Path:
    """A SQLite database holding the documents' examples (`ten99-server examples`) and what the
    worker makes for them (documents, certificates): built once per run, restored by the
    tests that need it."""
    path = tmp_path_factory.mktemp("examples") / "examples.db"
    url = f"sqlite:///{path}"
    restore(sqlite_template, url)
    database = Database(url)
    settings = Settings(database_url=url, worker=False)
    try:
        examples.make(database, settings)
        worker.run_due(database, settings)
    finally:
        database.dispose()
    return path


# Many tests share these servers, and some send bad keys on purpose: the failed-authentication
# throttle has tests of its own (tests/api/test_auth_throttle.py).
SHARED_SERVER_ENV = {"TEN99_AUTH_FAILURE_LIMIT": "off"}


@pytest.fixture(scope="session")
def live_server() -> LiveServer:
    """`ten99-server serve` on a SQLite file, shared by the run's tests: take a key of your own
    with `live_server.new_key()`."""
    with running_server(env=SHARED_SERVER_ENV) as server:
        yield server


@pytest.fixture(scope="session")
def live_postgres_server() -> LiveServer:
    """The same on a PostgreSQL database of its own."""
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with (
        postgres.fresh_database("ten99_live") as url,
        running_server(database_url=url, env=SHARED_SERVER_ENV) as server,
    ):
        yield server


@pytest.fixture
def live(request, database_kind) -> LiveServer:
    """The shared live server on the test's database kind."""
    name = "live_server" if database_kind == SQLITE else "live_postgres_server"
    return request.getfixturevalue(name)


@pytest.fixture
def settings(database_url) -> Settings:
    # The worker runs in the tests that start it; elsewhere tests run due tasks themselves.
    # One app serves many tests, which send bad keys on purpose: the failed-authentication
    # throttle has tests of its own (tests/api/test_auth_throttle.py).
    return Settings(
        database_url=database_url,
        validate_responses=True,
        worker=False,
        auth_failure_limit="off",
    )


def settings_from(env: dict[str, str]) -> Settings:
    """The settings `serve` would read from exactly these TEN99_* variables."""
    outside = {name: value for name, value in os.environ.items() if not name.startswith("TEN99_")}
    with mock.patch.dict(os.environ, {**outside, **env}, clear=True):
        return Settings.from_env()


# Building the app parses the whole spec; one app per settings serves every test that uses them.
_apps: dict[Settings, object] = {}


def app_for(settings: Settings):
    """The app these settings make, built once per run: an app keeps no state of a test's own
    but rate-limit budgets, which are counted per key, and every test has keys of its own."""
    if settings not in _apps:
        _apps[settings] = create_app(settings)
    return _apps[settings]


@pytest.fixture
def app(settings):
    return app_for(settings)


@pytest.fixture
def client_with(settings):
    """A test client of the app of the test's settings with some changed (`public_url=...`)."""

    def make(**changes):
        return app_for(settings.model_copy(update=changes)).test_client()

    return make


@pytest.fixture
def run_tasks(database, settings):
    """Run the background work that is due (policy documents, certificates, email), as the
    server's worker would; returns how many tasks ran."""
    return lambda: worker.run_due(database, settings)


class WallClock:
    """The server's wall clock, frozen at the real time and moved only by the test."""

    def __init__(self) -> None:
        self.at = int(time.time())
        self.step = 0  # seconds each reading moves it on: a clock that ticks between readings

    def __call__(self) -> int:
        read, self.at = self.at, self.at + self.step
        return read

    def move_to(self, at: int) -> None:
        self.at = at

    def move_by(self, seconds: int) -> None:
        self.at += seconds

    def reach(self, at: int = 0) -> None:
        """Move on to `at`, or to the real time if that is later; never back."""
        self.at = max(self.at, at, int(time.time()))


@pytest.fixture
def wall_clock(monkeypatch) -> WallClock:
    """Freeze the wall clock every layer reads (server/core/clock.py) for the test."""
    frozen = WallClock()
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


class SandboxClock:
    """A key's sandbox on a test clock: started at a time, advanced as the API advances it,
    the worker running the advance as the server's would."""

    def __init__(self, client, key: str, run_tasks) -> None:
        self.client, self.key, self.run_tasks = client, key, run_tasks
        self.clock: dict | None = None

    @property
    def now(self) -> int:
        assert self.clock is not None, "start the clock first"
        return self.clock["frozen_time"]

    def start(self, at: int | None = None) -> int:
        """Put the sandbox on a test clock at `at` (now by default); returns that time."""
        at = int(time.time()) if at is None else at
        body = {"frozen_time": at}
        self.clock = created(
            self.client.post("/api/v1/test_clocks", json=body, headers=bearer(self.key))
        )
        return at

    def advance(self, to: int) -> None:
        """Advance the clock to `to` and let the worker take it there."""
        url = f"/api/v1/test_clocks/{self.clock['id']}"
        response = self.client.post(
            f"{url}/advance", json={"frozen_time": to}, headers=bearer(self.key)
        )
        assert response.status_code == 200, response.text
        self.run_tasks()
        self.clock = self.client.get(url, headers=bearer(self.key)).json()
        assert (self.clock["status"], self.clock["frozen_time"]) == ("ready", to), self.clock


@pytest.fixture
def sandbox_clock(client, sandbox_key, run_tasks) -> SandboxClock:
    """The sandbox of `sandbox_key`, to be put on a test clock."""
    return SandboxClock(client, sandbox_key, run_tasks)


@pytest.fixture
def client(app, route):
    with app.test_client() as test_client:
        # For the factories of deliveries, which look at them at once.
        test_client.route_events = route  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
def database(app, settings):
    db = Database(settings.database_url)
    yield db
    db.dispose()


@pytest.fixture
def route(settings):
    """The scheduler's first step with webhooks, now: each new event gets its deliveries (after
    its request, which only records it)."""
    from server.worker.webhooks import route as route_events

    opened: list[Database] = []

    def run() -> int:
        if not opened:
            opened.append(Database(settings.database_url))
        return route_events(opened[0])

    yield run
    for database in opened:
        database.dispose()


@pytest.fixture
def new_key(database):
    def make(environment: Environment = Environment.SANDBOX, account: str = "acct_a") -> str:
        with database.transaction() as connection:
            return keys.create_key(KeyStore(connection), environment, account)

    return make


@pytest.fixture
def sandbox_key(new_key) -> str:
    return new_key()


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def basic(username: str, password: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def assert_error(response, status: int, code: str, param: str | None = None) -> dict:
    """The response is an error in the contract's shape, with this status and code (and param)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code
    assert isinstance(body["message"], str) and body["message"]
    if param is not None:
        assert body["param"] == param
    return body


def new_contractor(**overrides) -> dict:
    """A valid contractor creation body."""
    body = {
        "first_name": "Joe",
        "last_name": "Parker",
        "email": "parker@gmail.com",
        "phone": "415-474-9088",
        "address": {
            "line1": "1 Kearny St",
            "locality": "San Francisco",
            "postalcode": "94104",
            "region": "CA",
        },
    }
    body.update(overrides)
    return body


def new_entity(**overrides) -> dict:
    """A valid entity creation body: requires general liability, sets no limits."""
    body = {"name": "Apple, Inc", "required_coverage": ["general"]}
    body.update(overrides)
    return body


# A seeded, approved category (risk class medium) that carries general and workers-comp.
AUTOMOTIVE = "jc_MTqpkbkp6G"


def new_job(entity_id: str, **overrides) -> dict:
    """A valid job creation body, for work in California."""
    body = {
        "name": "Field technician",
        "description": "Diagnose and repair cars at the customer's site.",
        "entity": entity_id,
        "category_code": AUTOMOTIVE,
        "wage": 15000,
        "wage_type": "flatfee",
        "address": {"postalcode": "94104", "region": "CA"},
    }
    body.update(overrides)
    return body


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def underwrite(client, key: str, *, contractor=None, entity=None, job=None, quote=None) -> dict:
    """Create through the API a contractor, an entity, a job and an eligible quote (each body
    may be overridden); returns the four objects by name."""
    base, headers = "/api/v1", bearer(key)
    made = {
        "contractor": created(
            client.post(
                f"{base}/contractors", json=new_contractor(**(contractor or {})), headers=headers
            )
        ),
        "entity": created(
            client.post(f"{base}/entities", json=new_entity(**(entity or {})), headers=headers)
        ),
    }
    made["job"] = created(
        client.post(
            f"{base}/jobs", json=new_job(made["entity"]["id"], **(job or {})), headers=headers
        )
    )
    quote_body = {
        "contractor": made["contractor"]["id"],
        "job": made["job"]["id"],
        "coverage_type": ["general"],
        **(quote or {}),
    }
    made["quote"] = created(client.post(f"{base}/quotes", json=quote_body, headers=headers))
    return made


def bind(client, key: str, quote_id: str, **fields) -> dict:
    """Create a policy for the quote through the API."""
    return created(
        client.post("/api/v1/policies", json={"quote": quote_id, **fields}, headers=bearer(key))
    )


def _entity(client, key) -> str:
    return created(client.post("/api/v1/entities", json=new_entity(), headers=bearer(key)))["id"]


# How to make, through the API, the object each path parameter names; each returns its id. An
# implemented operation whose parameter is missing here fails
# tests/api/test_isolation.py::test_every_id_parameter_has_a_factory.
FACTORIES = {
    "contractor_id": lambda client, key: created(
        client.post("/api/v1/contractors", json=new_contractor(), headers=bearer(key))
    )["id"],
    "entity_id": _entity,
    "job_id": lambda client, key: created(
        client.post("/api/v1/jobs", json=new_job(_entity(client, key)), headers=bearer(key))
    )["id"],
    "quote_id": lambda client, key: underwrite(client, key)["quote"]["id"],
    "policy_id": lambda client, key: bind(client, key, underwrite(client, key)["quote"]["id"])[
        "id"
    ],
    "assignment_id": lambda client, key: _assignment(client, key),
    "test_clock_id": lambda client, key: created(
        client.post("/api/v1/test_clocks", json={"frozen_time": 1767225600}, headers=bearer(key))
    )["id"],
    "session_id": lambda client, key: created(
        client.post(
            "/api/v1/apply/sessions",
            json={"quote": underwrite(client, key)["quote"]["id"]},
            headers=bearer(key),
        )
    )["id"],
    "webhook_endpoint_id": lambda client, key: created(
        client.post(
            "/api/v1/webhook_endpoints",
            json={"url": "https://platform.example/hooks", "enabled_events": ["*"]},
            headers=bearer(key),
        )
    )["id"],
    "event_id": lambda client, key: _event(client, key),
    "invoice_id": lambda client, key: _invoice(client, key),
    "certificate_id": lambda client, key: _certificate(client, key),
    "snapshot_id": lambda client, key: created(
        client.post("/api/v1/sandbox/snapshots", json={"name": "factory"}, headers=bearer(key))
    )["id"],
    "request_id": lambda client, key: _logged_request(client, key),
}


def _logged_request(client, key) -> str:
    """The id of a request the key made, once the request log has it (it is written after the
    answers, in batches)."""
    request_id = client.get("/api/v1/contractors/cn_0Logged", headers=bearer(key)).headers[
        "request-id"
    ]
    eventually(
        lambda: client.get(f"/api/v1/request_logs/{request_id}", headers=bearer(key)),
        lambda response: response.status_code == 200,
    )
    return request_id


def _certificate(client, key) -> str:
    """A certificate of insurance uploaded for a new contractor of an entity that requires
    general liability."""
    contractor_id = underwrite(client, key)["contractor"]["id"]
    pdf = sample.stating(*MEETS_THE_EXAMPLE)
    return created(
        client.post(
            "/api/v1/files/certificates",
            files={"certificate": ("certificate.pdf", pdf, "application/pdf")},
            data={"contractor": contractor_id},
            headers=bearer(key),
        )
    )["id"]


def _delivery(client, key, endpoint_id: str) -> str:
    """The delivery to the endpoint of the contractor.created event of a new contractor (the
    endpoint takes every event)."""
    FACTORIES["contractor_id"](client, key)
    client.route_events()  # as the worker does, after the request
    url = f"/api/v1/webhook_endpoints/{endpoint_id}/deliveries"
    return client.get(url, headers=bearer(key)).json()[0]["id"]


# Path parameters of an object inside another: made inside the object the path names before,
# and read back through the list of it (they have no retrieve operation of their own).
NESTED = {
    "webhook_delivery_id": (
        lambda client, key, ids: _delivery(client, key, ids["webhook_endpoint_id"]),
        lambda ids: f"/webhook_endpoints/{ids['webhook_endpoint_id']}/deliveries",
    )
}


def _event(client, key) -> str:
    """The id of the contractor.created event of a new contractor."""
    contractor_id = FACTORIES["contractor_id"](client, key)
    listed = client.get(
        "/api/v1/events", params={"type": "contractor.created"}, headers=bearer(key)
    ).json()
    [event] = [e for e in listed if e["data"]["object"]["id"] == contractor_id]
    return event["id"]


def _invoice(client, key) -> str:
    """An invoice for a week inside a new policy's period."""
    made = underwrite(client, key)
    policy = bind(client, key, made["quote"]["id"])
    start = policy["effective_date"] + 86400
    body = {
        "contractor": made["contractor"]["id"],
        "job": made["job"]["id"],
        "gross_pay": 100000,
        "paycycle_startdate": start,
        "paycycle_enddate": start + 7 * 86400,
    }
    return created(client.post("/api/v1/invoices", json=body, headers=bearer(key)))["id"]


def _assignment(client, key) -> str:
    made = underwrite(client, key)
    body = {"contractor": made["contractor"]["id"], "job": made["job"]["id"]}
    return created(
        client.post(
            "/api/v1/assignments", json={**body, "coverage_type": ["general"]}, headers=bearer(key)
        )
    )["id"]
