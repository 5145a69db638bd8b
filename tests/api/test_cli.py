"""`ten99-server keys create`, and the keys the server makes sure of at start-up."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.cli import main
from server.config import Settings
from server.domain import keys
from server.store.db import Database, migrate
from tests.conftest import bearer


@pytest.fixture(autouse=True)
def cli_database(database_url, monkeypatch) -> None:
    monkeypatch.setenv("TEN99_DATABASE_URL", database_url)


@pytest.mark.parametrize(
    ("environment", "prefix"), [("sandbox", "t9k_test_"), ("production", "t9k_live_")]
)
def test_keys_create_prints_a_working_key(database_url, capsys, environment, prefix):
    assert main(["keys", "create", "--environment", environment]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith(prefix)
    app = create_app(Settings(database_url=database_url))
    with app.test_client() as client:
        assert client.get("/api/v1/contractors", headers=bearer(key)).status_code == 200


def test_the_configured_key_exists_once_the_app_is_up(database_url):
    key = "t9k_test_configured0123456789"
    app = create_app(Settings(database_url=database_url, api_key=key))
    create_app(Settings(database_url=database_url, api_key=key))  # a restart adds nothing
    with app.test_client() as client:
        assert client.get("/api/v1/contractors", headers=bearer(key)).status_code == 200


def test_a_configured_key_without_a_known_prefix_is_refused(database_url):
    with pytest.raises(ValueError, match="t9k_test_"):
        create_app(Settings(database_url=database_url, api_key="secret"))


def test_a_first_sandbox_key_is_made_only_when_no_key_exists(database_url):
    database = Database(database_url)
    migrate(database.engine)
    first = keys.first_key_if_none(database)
    assert first is not None and first.startswith("t9k_test_")
    assert keys.first_key_if_none(database) is None
    database.dispose()
