"""`ten99-server keys create`, and the keys the server makes sure of at start-up."""

from __future__ import annotations

import time

import pytest

from server.app import create_app
from server.cli import main
from server.config import Settings
from server.domain import keys
from server.security import KEY_CACHE_SECONDS
from server.store.db import Database, migrate
from server.store.keys import KeyStore
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
    with database.transaction() as connection:
        first = keys.first_key_if_none(KeyStore(connection))
    assert first is not None and first.startswith("t9k_test_")
    with database.transaction() as connection:
        assert keys.first_key_if_none(KeyStore(connection)) is None
    database.dispose()


def _created_key(capsys, *args: str) -> str:
    assert main(["keys", "create", *args]) == 0
    return capsys.readouterr().out.strip()


def test_keys_list_shows_ids_and_hints_never_the_keys(capsys):
    sandbox = _created_key(capsys, "--account", "acct_one")
    live = _created_key(capsys, "--account", "acct_two", "--environment", "production")
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert sandbox not in listing and live not in listing
    assert sandbox[:13] + "..." in listing and live[:13] + "..." in listing
    assert listing.splitlines()[0].split() == [
        "ID", "ACCOUNT", "ENVIRONMENT", "KEY", "CREATED", "STATUS"
    ]  # fmt: skip

    assert main(["keys", "list", "--account", "acct_two"]) == 0
    only_two = capsys.readouterr().out.splitlines()[1:]
    assert len(only_two) == 1 and "acct_two" in only_two[0] and "production" in only_two[0]
    assert main(["keys", "list", "--environment", "sandbox", "--account", "acct_two"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_a_revoked_key_is_401_and_listed_as_revoked(capsys, database_url):
    key = _created_key(capsys)
    assert main(["keys", "list"]) == 0
    key_id = next(
        line.split()[0] for line in capsys.readouterr().out.splitlines() if key[:13] in line
    )
    app = create_app(Settings(database_url=database_url))
    with app.test_client() as client:
        assert client.get("/api/v1/contractors", headers=bearer(key)).status_code == 200
        assert main(["keys", "revoke", key_id]) == 0
        assert key_id in capsys.readouterr().out
        # A process trusts its last lookup of a key for at most KEY_CACHE_SECONDS.
        time.sleep(KEY_CACHE_SECONDS)
        refused = client.get("/api/v1/contractors", headers=bearer(key))
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "invalid_api_key"
    assert main(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", key_id]) == 0, "revoking twice is harmless"


def test_revoking_an_unknown_key_fails_with_a_message(capsys):
    assert main(["keys", "revoke", "key_nothing"]) == 1
    assert "key_nothing" in capsys.readouterr().err


def test_an_account_id_is_checked(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "create", "--account", "no spaces please"])
    assert exit_info.value.code == 2
    assert "account id" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TEN99_RATE_LIMIT", "fast"),
        ("TEN99_REDIS_URL", "localhost:6379"),
        ("TEN99_API_KEY", "secret"),
    ],
)
def test_serve_refuses_bad_settings_before_starting(capsys, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    assert variable in capsys.readouterr().err
