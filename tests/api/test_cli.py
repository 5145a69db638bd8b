"""`ten99-server keys create`, and the keys the server makes sure of at start-up."""

from __future__ import annotations

import re
import time

import pytest

from server.app import create_app
from server.cli import main
from server.core.principals import Environment
from server.core.settings import Settings
from server.domain import keys
from server.domain.keys import KEY_HINT_LENGTH
from server.middleware.security import KEY_CACHE_SECONDS
from server.store.db import Database
from server.store.keys import KeyStore
from server.store.schema import migrate
from tests.conftest import bearer
from tests.live import free_port


@pytest.fixture(autouse=True)
def cli_database(database_url, monkeypatch) -> None:
    monkeypatch.setenv("TEN99_DATABASE_URL", database_url)


@pytest.mark.parametrize(
    ("environment", "prefix"), [("sandbox", "t9k_test_"), ("production", "t9k_live_")]
)
@pytest.mark.storage
def test_keys_create_prints_a_working_key(database_url, capsys, environment, prefix):
    assert main(["keys", "create", "--environment", environment]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith(prefix)
    app = create_app(Settings(database_url=database_url))
    with app.test_client() as client:
        assert client.get("/api/v1/contractors", headers=bearer(key)).status_code == 200


@pytest.mark.storage
def test_the_configured_key_exists_once_the_app_is_up(database_url):
    key = "t9k_test_configured0123456789"
    app = create_app(Settings(database_url=database_url, api_key=key))
    create_app(Settings(database_url=database_url, api_key=key))  # a restart adds nothing
    with app.test_client() as client:
        assert client.get("/api/v1/contractors", headers=bearer(key)).status_code == 200


def test_a_configured_key_without_a_known_prefix_is_refused(database_url):
    with pytest.raises(ValueError, match="t9k_test_"):
        create_app(Settings(database_url=database_url, api_key="secret"))


@pytest.mark.storage
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


@pytest.mark.storage
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


@pytest.mark.storage
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


@pytest.mark.storage
def test_revoking_an_unknown_key_fails_with_a_message(capsys):
    assert main(["keys", "revoke", "key_nothing"]) == 1
    assert "key_nothing" in capsys.readouterr().err


def test_an_account_id_is_checked(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "create", "--account", "no spaces please"])
    assert exit_info.value.code == 2
    assert "account id" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("TEN99_RATE_LIMIT", "fast", "100/second"),
        ("TEN99_REDIS_URL", "localhost:6379", "redis://"),
        ("TEN99_API_KEY", "secret", "t9k_test_"),
        ("TEN99_LOG_LEVEL", "loud", "debug"),
        ("TEN99_LOG_FORMAT", "xml", "json"),
        ("TEN99_DATABASE_URL", "mysql://root@localhost/ten99", "postgresql"),
        ("TEN99_WORKER", "maybe", "on or off"),
        ("TEN99_REQUEST_TIMEOUT", "soon", "whole number"),
        ("TEN99_WEBHOOK_TARGETS", "sometimes", "loopback"),
        ("TEN99_PUBLIC_URL", "sandbox.example.com", "https://"),
        ("TEN99_SMTP_URL", "mail.example.com", "smtp://"),
    ],
)
def test_serve_refuses_a_bad_setting_in_one_line(capsys, monkeypatch, variable, value, allowed):
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"ten99-server: {variable}={value!r}: ")
    assert allowed in err
    assert "Traceback" not in err


def test_every_bad_setting_is_named_at_once(capsys, monkeypatch):
    monkeypatch.setenv("TEN99_LOG_LEVEL", "loud")
    monkeypatch.setenv("TEN99_MAX_CONNECTIONS", "0")
    assert main(["check-config"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "ten99-server: TEN99_LOG_LEVEL",
        "ten99-server: TEN99_MAX_CONNECTIONS",
    ]


def test_a_port_out_of_range_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "99999"])
    assert exit_info.value.code == 2
    assert "1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["no-such-host..invalid", "x" * 64 + ".invalid"])
def test_a_host_that_is_no_host_name_is_refused(capsys, host):
    """Refused in one line, before any lookup (which would leave this machine)."""
    assert main(["serve", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err == f"ten99-server: --host {host!r}: not a host name\n"


def test_a_command_run_elsewhere_creates_no_database(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("TEN99_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    assert main(["mail", "list"]) == 1
    assert main(["keys", "list"]) == 1
    err = capsys.readouterr().err
    assert f"no database at {tmp_path / 'ten99policy.db'}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.storage
def test_database_names_the_database(capsys, tmp_path, database_url):
    main(["keys", "create", "--database", database_url])
    key = capsys.readouterr().out.strip()
    assert main(["keys", "list", "--database", database_url]) == 0
    assert key[:KEY_HINT_LENGTH] in capsys.readouterr().out
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["keys", "list", "--database", other]) == 1


def test_an_unreachable_database_is_one_line(capsys):
    refused = f"postgresql://postgres@127.0.0.1:{free_port()}/ten99"
    assert main(["keys", "list", "--database", refused]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ten99-server: cannot reach the database postgresql+psycopg://")
    assert "Connection refused" in err


@pytest.mark.storage
def test_check_config_reaches_the_database_and_shows_the_settings(capsys, monkeypatch):
    monkeypatch.setenv("TEN99_API_KEY", "t9k_test_notshown0123456789")
    monkeypatch.setenv("TEN99_CONNECTIONS_PER_CLIENT", "off")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "reached; the schema is current" in out
    assert "TEN99_API_KEY=(set)" in out
    assert "notshown" not in out
    assert "TEN99_CONNECTIONS_PER_CLIENT=off" in out
    assert "TEN99_WORKER=on" in out


def test_version_names_the_package_and_the_contract(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"ten99-server \S+ \(contract \d+\.\d+\.\d+\)\n", out)


def test_every_option_has_help(capsys):
    for command in (["serve"], ["worker"], ["check-config"], ["keys", "create"], ["mail", "list"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = capsys.readouterr().out
        assert "--database URL" in out
        assert "(default:" in out or command == ["worker"] or command == ["check-config"]


def test_migrate_is_a_step_of_its_own_and_safe_to_repeat(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["migrate", "--database", url]) == 0
    assert re.search(
        r"migrated from an empty database to revision \d{4}\n", capsys.readouterr().out
    )
    assert main(["migrate", "--database", url]) == 0
    again = capsys.readouterr().out
    assert "the schema is current (revision" in again
    assert again.rstrip().endswith("nothing to do")


def test_with_migration_at_start_forbidden_a_stale_schema_is_one_line_and_exit_1(
    capsys, monkeypatch, tmp_path
):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("TEN99_MIGRATE_AT_START", "off")
    # serve creates its SQLite file, and stops at its empty schema; the others stop there too.
    for command in (["serve", "--port", str(free_port())], ["keys", "create"], ["worker"]):
        assert main([*command, "--database", url]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "the database has no schema; this server needs revision" in err
        assert "run `ten99-server migrate` first" in err
    assert main(["migrate", "--database", url]) == 0
    assert main(["keys", "create", "--database", url]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("t9k_test_")
    with pytest.raises(Exception, match="TEN99_MIGRATE_AT_START=off"):
        other = f"sqlite:///{tmp_path / 'other.db'}"
        create_app(Settings(database_url=other, migrate_at_start=False))


def test_a_category_added_is_listed_and_announced_to_every_account(client, new_key, capsys):
    keys_of = [new_key(), new_key(account="acct_two"), new_key(Environment.PRODUCTION)]
    command = ["categories", "add", "Solar panel installation", "--risk-class", "high"]
    command += ["--description", "Fitting solar panels on roofs."]
    assert main([*command, "--coverage", "general", "--coverage", "workers-comp"]) == 0
    category_id = capsys.readouterr().out.split()[0]
    for key in keys_of:
        listed = client.get("/api/v1/category_codes?limit=100", headers=bearer(key)).json()
        [added] = [c for c in listed if c["id"] == category_id]
        assert (added["risk_class"], added["approved"]) == ("high", True)
        events = client.get("/api/v1/events?type=category_code.added", headers=bearer(key))
        assert [e["data"]["object"]["id"] for e in events.json()] == [category_id]


@pytest.mark.parametrize(
    "coverage", [["workers-comp"], ["general", "jetpack"]], ids=["no general", "unknown"]
)
def test_a_category_without_general_or_with_unknown_coverage_is_refused(capsys, coverage):
    command = ["categories", "add", "Odd jobs", "--risk-class", "low", "--description", "Odd."]
    assert main([*command, *(f"--coverage={c}" for c in coverage)]) == 2
    assert "general" in capsys.readouterr().err
