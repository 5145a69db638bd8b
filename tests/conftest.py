"""Shared fixtures: the real app over a real database, and API keys to call it with.

Every test that uses `database_url` (and so `settings`, `app`, `client`) runs twice: on a fresh
SQLite file, and on a PostgreSQL database this run created, emptied before each test. The
PostgreSQL runs skip, saying why, where no server answers.
"""

from __future__ import annotations

import base64

import pytest

from server.app import create_app
from server.config import Settings
from server.domain import keys
from server.domain.accounts import Environment
from server.store.db import Database
from tests import postgres


@pytest.fixture(scope="session")
def postgres_url():
    reason = postgres.unreachable_reason()
    if reason:
        pytest.skip(reason)
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/api.db"
    url = request.getfixturevalue("postgres_url")
    postgres.truncate_all(url)
    return url


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, validate_responses=True)


@pytest.fixture
def app(settings):
    return create_app(settings)


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
        return keys.create_key(database, environment, account)

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
