"""Contractors end to end through the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.core.principals import Environment
from server.store.tables import contractors
from tests.conftest import assert_error, bearer, new_contractor

URL = "/api/v1/contractors"


@pytest.fixture
def create(client, sandbox_key):
    def make(key: str = sandbox_key, **overrides) -> dict:
        response = client.post(URL, json=new_contractor(**overrides), headers=bearer(key))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.mark.storage
def test_create_returns_the_stored_contractor(client, sandbox_key, create):
    created = create(
        company_name="Acme Co.",
        tax_identification="12-3456789",
        custom_metadata={"campaign": "Red Bull", "blank": ""},
    )
    assert created["id"].startswith("cn_")
    assert created["object"] == "contractor"
    assert isinstance(created["created"], int)
    assert created["company_name"] == "Acme Co."
    assert created["middle_name"] is None
    assert created["custom_metadata"] == {"campaign": "Red Bull"}
    assert "tax_identification" not in created
    fetched = client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key))
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_the_tax_id_is_stored_but_never_returned(client, sandbox_key, create, database):
    created = create(tax_identification="123-45-6789")
    with database.transaction() as session:
        stored = session.execute(
            select(contractors.c.tax_identification).where(contractors.c.id == created["id"])
        ).scalar_one()
    assert stored == "123-45-6789"
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert all("tax_identification" not in c for c in listed)


@pytest.mark.storage
def test_update_changes_only_what_it_names(client, sandbox_key, create):
    created = create(middle_name="Lee", custom_metadata={"campaign": "Red Bull", "tier": "gold"})
    response = client.put(
        f"{URL}/{created['id']}",
        json={
            "email": "joe@example.org",
            "middle_name": None,
            "custom_metadata": {"campaign": "", "source": "ads"},
        },
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["email"] == "joe@example.org"
    assert updated["middle_name"] is None
    assert updated["custom_metadata"] == {"tier": "gold", "source": "ads"}
    unchanged = {
        k: v for k, v in created.items() if k not in {"email", "middle_name", "custom_metadata"}
    }
    assert {k: updated[k] for k in unchanged} == unchanged
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == updated


@pytest.mark.storage
def test_empty_metadata_object_unsets_every_key(client, sandbox_key, create):
    created = create(custom_metadata={"a": "1", "b": "2"})
    response = client.put(
        f"{URL}/{created['id']}", json={"custom_metadata": {}}, headers=bearer(sandbox_key)
    )
    assert response.json()["custom_metadata"] == {}


def test_update_replaces_the_address_whole(client, sandbox_key, create):
    created = create(address={**new_contractor()["address"], "line2": "Suite 4"})
    address = {"line1": "2 Main St", "locality": "Austin", "postalcode": "78701", "region": "TX"}
    response = client.put(
        f"{URL}/{created['id']}", json={"address": address}, headers=bearer(sandbox_key)
    )
    assert response.json()["address"] == {**address, "line2": None, "country": None}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_accounts_contractor_does_not_exist_for_you(client, new_key, create, method):
    created = create(key=new_key(account="acct_a"))
    other = new_key(account="acct_b")
    kwargs = {"json": {"first_name": "Mallory"}} if method == "put" else {}
    response = client.request(
        method.upper(), f"{URL}/{created['id']}", headers=bearer(other), **kwargs
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "resource_not_found"
    assert client.get(URL, headers=bearer(other)).json() == []
    response = client.get(URL, params={"starting_after": created["id"]}, headers=bearer(other))
    assert response.status_code == 404


def test_environments_never_mix(client, new_key, create):
    live = new_key(Environment.PRODUCTION)
    test = new_key(Environment.SANDBOX)
    in_production = create(key=live)
    in_sandbox = create(key=test)
    assert [c["id"] for c in client.get(URL, headers=bearer(live)).json()] == [in_production["id"]]
    assert [c["id"] for c in client.get(URL, headers=bearer(test)).json()] == [in_sandbox["id"]]
    assert client.get(f"{URL}/{in_production['id']}", headers=bearer(test)).status_code == 404


def test_invalid_fields_are_each_reported(client, sandbox_key):
    body = new_contractor(email="not-an-email", address={"line1": "x", "region": "California"})
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "invalid_input"
    params = {e["param"] for e in error["errors"]}
    assert {"email", "address.region", "address.locality", "address.postalcode"} <= params


def test_unknown_fields_are_refused(client, sandbox_key):
    response = client.post(URL, json=new_contractor(nickname="JP"), headers=bearer(sandbox_key))
    assert response.status_code == 400
    assert "nickname" in response.json()["message"]


@pytest.mark.parametrize("country", ["US", "USA"])
def test_a_country_is_a_two_or_three_letter_code_kept_as_given(create, country):
    """The documents give 2-letter codes; the official libraries' READMEs send "USA"."""
    address = {**new_contractor()["address"], "country": country}
    assert create(address=address)["address"]["country"] == country


def test_a_country_name_is_refused(client, sandbox_key):
    address = {**new_contractor()["address"], "country": "United States"}
    response = client.post(URL, json=new_contractor(address=address), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", "address.country")


@pytest.mark.parametrize("email", ["no-at-sign", "joe@exa*mple.com", "{1*&@v.example.org*"])
def test_an_email_outside_rfc_5321_is_refused(client, sandbox_key, email):
    """Refused as the tools that validate responses refuse it, so that no stored address breaks
    the response schema."""
    response = client.post(URL, json=new_contractor(email=email), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input", "email")


@pytest.mark.parametrize("email", ["parker@gmail.com", "j.o+tag@sub.example.co.uk"])
def test_a_plain_email_is_taken(create, email):
    assert create(email=email)["email"] == email
