"""Failed authentication is throttled per client address: after the budget of invalid keys, an
address is refused with 429 before any key lookup, while keys that have been valid keep being
served, and other addresses are not affected."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.core.settings import SettingsError
from server.middleware import security
from tests.conftest import assert_error, bearer, settings_from

URL = "/api/v1/contractors"


@pytest.fixture
def throttled(settings):
    """An app that allows an address five invalid keys a minute."""
    return create_app(settings.model_copy(update=dict(auth_failure_limit="5/minute")))


def test_a_flood_of_bad_keys_is_cut_off_without_lookups(throttled, monkeypatch):
    lookups = []
    real_lookup = security.KeyCache._lookup
    monkeypatch.setattr(
        security.KeyCache,
        "_lookup",
        lambda cache, key: lookups.append(key) or real_lookup(cache, key),
    )
    with throttled.test_client() as client:
        answers = [client.get(URL, headers=bearer(f"t9k_test_scan{n}")) for n in range(12)]
    assert [r.status_code for r in answers] == [401] * 5 + [429] * 7
    refused = assert_error(answers[-1], 429, "rate_limit")
    assert "invalid API key" in refused["message"]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert len(lookups) == 5  # the refused ones cost no database lookup


def test_known_keys_and_other_addresses_keep_being_served(throttled, sandbox_key):
    with throttled.test_client() as client:
        assert client.get(URL, headers=bearer(sandbox_key)).status_code == 200
        for n in range(10):
            client.get(URL, headers=bearer(f"t9k_test_scan{n}"))
        assert client.get(URL, headers=bearer("t9k_test_more")).status_code == 429
        # The key this address used before is still served...
        assert client.get(URL, headers=bearer(sandbox_key)).status_code == 200
    # ... and another address is not throttled for this one's failures.
    with throttled.test_client(client=("198.51.100.7", 40000)) as other:
        assert other.get(URL, headers=bearer("t9k_test_typo")).status_code == 401


def test_off_turns_it_off(settings):
    app = create_app(settings.model_copy(update=dict(auth_failure_limit="off")))
    with app.test_client() as client:
        answers = [client.get(URL, headers=bearer(f"t9k_test_scan{n}")) for n in range(40)]
    assert {r.status_code for r in answers} == {401}


def test_the_setting_is_read_and_checked():
    assert settings_from({}).auth_failure_limit == "30/minute"
    assert settings_from({"TEN99_AUTH_FAILURE_LIMIT": "3/second"}).auth_failure_limit == (
        "3/second"
    )
    with pytest.raises(SettingsError, match="TEN99_AUTH_FAILURE_LIMIT"):
        settings_from({"TEN99_AUTH_FAILURE_LIMIT": "lots"})
