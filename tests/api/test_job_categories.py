"""The job category catalogue end to end, on SQLite and on PostgreSQL: what the TOML seeds is
what every key reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import server.domain
from server.core.principals import Environment
from tests.conftest import AUTOMOTIVE, assert_error, bearer

URL = "/api/v1/category_codes"
CATALOGUE = Path(server.domain.__file__).parent / "data" / "job_categories.toml"
FIELDS = ("id", "name", "description", "risk_class", "available_coverage", "approved")


def _toml_rows() -> dict[str, dict]:
    with CATALOGUE.open("rb") as file:
        rows = tomllib.load(file)["category"]
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(rows), "the TOML repeats an id"
    return by_id


def _walk(client, key: str, limit: int) -> list[dict]:
    """Every category, page after page through `starting_after`."""
    found: list[dict] = []
    params: dict = {"limit": limit}
    while True:
        response = client.get(URL, params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        found.extend(page)
        if len(page) < limit:
            return found
        params = {"limit": limit, "starting_after": page[-1]["id"]}


def _assert_is_toml_row(category: dict, row: dict) -> None:
    assert category["object"] == "job_category"
    assert isinstance(category["created"], int) and category["created"] >= 0
    assert {name: category[name] for name in FIELDS} == {name: row[name] for name in FIELDS}
    assert set(category) == {"object", "livemode", "created", *FIELDS}


def test_the_list_is_the_seeded_catalogue(client, sandbox_key):
    rows = _toml_rows()
    listed = _walk(client, sandbox_key, limit=100)
    ids = [category["id"] for category in listed]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(rows)
    for category in listed:
        _assert_is_toml_row(category, rows[category["id"]])


def test_the_catalogue_is_broad_enough(client, sandbox_key):
    rows = _toml_rows()
    assert len(rows) >= 30
    assert {row["risk_class"] for row in rows.values()} == {"low", "medium", "high"}
    assert any(row["approved"] for row in rows.values())
    assert any(not row["approved"] for row in rows.values())
    listed = _walk(client, sandbox_key, limit=100)
    assert len(listed) >= 30
    assert {category["risk_class"] for category in listed} == {"low", "medium", "high"}
    assert {category["approved"] for category in listed} == {True, False}


@pytest.mark.storage
def test_each_category_retrieves_as_its_toml_row(client, sandbox_key):
    rows = _toml_rows()
    listed = {category["id"]: category for category in _walk(client, sandbox_key, limit=100)}
    for category_id, row in rows.items():
        response = client.get(f"{URL}/{category_id}", headers=bearer(sandbox_key))
        assert response.status_code == 200, response.text
        _assert_is_toml_row(response.json(), row)
        assert response.json() == listed[category_id]


def test_the_automotive_category_of_the_examples(client, sandbox_key):
    response = client.get(f"{URL}/{AUTOMOTIVE}", headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    category = response.json()
    assert category["name"] == "Automotive repair"
    assert category["risk_class"] == "medium"
    assert category["approved"] is True
    assert set(category["available_coverage"]) == {"general", "workers-comp"}


def test_an_unknown_category_is_a_404(client, sandbox_key):
    response = client.get(f"{URL}/jc_Zz9NoSuchCategory", headers=bearer(sandbox_key))
    body = assert_error(response, 404, "resource_not_found")
    assert "jc_Zz9NoSuchCategory" in body["message"]


@pytest.mark.parametrize("category_id", ["xx_1", "jc_", "jc_has-dash", "MTqpkbkp6G"])
def test_a_malformed_category_id_is_refused(client, sandbox_key, category_id):
    response = client.get(f"{URL}/{category_id}", headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")


def test_every_key_sees_the_same_catalogue(client, new_key):
    keys = {
        "sandbox, account a": new_key(),
        "sandbox, account b": new_key(account="acct_b"),
        "production, account a": new_key(Environment.PRODUCTION),
        "production, account b": new_key(Environment.PRODUCTION, account="acct_b"),
    }
    catalogues = {name: _walk(client, key, limit=100) for name, key in keys.items()}
    # The same categories, each shown with the livemode of the key that asked.
    for name, catalogue in catalogues.items():
        assert {c["livemode"] for c in catalogue} == {name.startswith("production")}, name
    reference = _without_livemode(catalogues["sandbox, account a"])
    assert set(c["id"] for c in reference) == set(_toml_rows())
    for name, catalogue in catalogues.items():
        assert _without_livemode(catalogue) == reference, name
    for key in keys.values():
        response = client.get(f"{URL}/{AUTOMOTIVE}", headers=bearer(key))
        assert response.status_code == 200, response.text
        shown = _without_livemode([response.json()])[0]
        assert shown == next(c for c in reference if c["id"] == AUTOMOTIVE)


def _without_livemode(categories: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "livemode"} for c in categories]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_catalogue_is_read_only(client, sandbox_key, method):
    url = URL if method == "post" else f"{URL}/{AUTOMOTIVE}"
    kwargs = {} if method == "delete" else {"json": {"name": "Renamed"}}
    response = client.request(method.upper(), url, headers=bearer(sandbox_key), **kwargs)
    assert response.status_code == 405
    assert client.get(f"{URL}/{AUTOMOTIVE}", headers=bearer(sandbox_key)).json()["name"] == (
        "Automotive repair"
    )
