"""Shared fixtures: the real app over a real database, and API keys to call it with.

Every test that uses `database_url` (and so `settings`, `app`, `client`) runs twice: on a fresh
SQLite file, and on a PostgreSQL database this run created, emptied before each test. The
PostgreSQL runs skip, saying why, where no server answers.

Time: a test that needs the sandbox's time to stand still or move uses a test clock, as a
sandbox user would (`sandbox_clock`); one that needs the server's own wall clock (leases,
retries of background work, idempotency keys' lifetime) freezes it with `wall_clock`.
"""

from __future__ import annotations

import base64
import os
import time
from unittest import mock

import pytest

from server import worker
from server.app import create_app
from server.config import Settings
from server.core import clock
from server.core.principals import Environment
from server.domain import keys
from server.store.db import Database, migrate
from server.store.keys import KeyStore
from server.store.tables import metadata
from tests import postgres


@pytest.fixture(scope="session")
def postgres_url():
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/api.db"


def _empty_sqlite(url: str) -> None:
    """Delete every row but the seeded catalogue's; the schema stays migrated."""
    database = Database(url)
    try:
        migrate(database.engine)
        with database.transaction() as session:
            for table in reversed(metadata.sorted_tables):
                if table.name not in postgres.SEEDED_TABLES:
                    session.execute(table.delete())
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """A migrated database holding only the seeded catalogue: one per run for each kind,
    emptied before each test."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        _empty_sqlite(url)
        return url
    url = request.getfixturevalue("postgres_url")
    postgres.truncate_all(url)
    return url


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


@pytest.fixture
def app(settings):
    if settings not in _apps:
        _apps[settings] = create_app(settings)
    return _apps[settings]


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
def client(app):
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def database(app, settings):
    db = Database(settings.database_url)
    yield db
    db.dispose()


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
