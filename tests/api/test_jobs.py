"""Jobs end to end through the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import server.domain
from server.core.principals import Environment
from tests.conftest import (
    AUTOMOTIVE,
    assert_error,
    bearer,
    bind,
    created,
    new_entity,
    new_job,
    underwrite,
)

URL = "/api/v1/jobs"
CATALOGUE = Path(server.domain.__file__).parent / "data" / "job_categories.toml"
UNKNOWN_CATEGORY = "jc_Zz9NoSuchCategory"


def _catalogue() -> list[dict]:
    with CATALOGUE.open("rb") as file:
        return tomllib.load(file)["category"]


def _unapproved_category() -> str:
    return next(row["id"] for row in _catalogue() if not row["approved"])


def _other_approved_category() -> str:
    return next(row["id"] for row in _catalogue() if row["approved"] and row["id"] != AUTOMOTIVE)


@pytest.fixture
def entity(client, sandbox_key) -> dict:
    return created(client.post("/api/v1/entities", json=new_entity(), headers=bearer(sandbox_key)))


@pytest.fixture
def create(client, sandbox_key, entity):
    def make(key: str = sandbox_key, entity_id: str | None = None, **overrides) -> dict:
        body = new_job(entity_id or entity["id"], **overrides)
        response = client.post(URL, json=body, headers=bearer(key))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.mark.storage
def test_create_returns_the_whole_stored_job(client, sandbox_key, entity):
    body = new_job(
        entity["id"],
        years_experience=10,
        duration_hours=20,
        address={
            "line1": "1 Kearny St",
            "line2": "Suite 400",
            "locality": "San Francisco",
            "postalcode": "94104",
            "region": "CA",
            "country": "US",
        },
    )
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["id"].startswith("jb_")
    assert isinstance(job["created"], int) and job["created"] > 0
    expected = {"id": job["id"], "object": "job", "livemode": False, "created": job["created"]}
    assert job == {**expected, **body}
    fetched = client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key))
    assert fetched.status_code == 200
    assert fetched.json() == job


def test_duration_hours_is_kept_as_given_and_null_when_not(client, sandbox_key, create):
    """The official libraries' READMEs send it; rating does not use it."""
    assert create()["duration_hours"] is None
    job = create(duration_hours=40)
    assert job["duration_hours"] == 40
    changed = client.put(
        f"{URL}/{job['id']}", json={"duration_hours": None}, headers=bearer(sandbox_key)
    )
    assert changed.json()["duration_hours"] is None
    negative = client.post(
        URL, json=new_job(job["entity"], duration_hours=-1), headers=bearer(sandbox_key)
    )
    assert_error(negative, 400, "invalid_input", "duration_hours")


def test_a_job_address_needs_only_the_region_and_the_postal_code(client, sandbox_key, entity):
    body = new_job(entity["id"], address={"region": "CA", "postalcode": "94104"})
    job = created(client.post(URL, json=body, headers=bearer(sandbox_key)))
    assert job["address"] == {"region": "CA", "postalcode": "94104"}
    assert job["years_experience"] is None
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


@pytest.mark.parametrize("field", ["region", "postalcode"])
def test_a_job_address_without_region_or_postal_code_is_refused(client, sandbox_key, entity, field):
    address = {"region": "CA", "postalcode": "94104"}
    del address[field]
    response = client.post(
        URL, json=new_job(entity["id"], address=address), headers=bearer(sandbox_key)
    )
    body = assert_error(response, 400, "invalid_input")
    assert f"address.{field}" in {e["param"] for e in body["errors"]}


def test_a_remote_job_has_a_null_address(client, sandbox_key, entity):
    body = new_job(entity["id"])
    del body["address"]
    job = created(client.post(URL, json=body, headers=bearer(sandbox_key)))
    assert job["address"] is None
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json()["address"] is None
    explicit = created(
        client.post(URL, json=new_job(entity["id"], address=None), headers=bearer(sandbox_key))
    )
    assert explicit["address"] is None


@pytest.mark.parametrize(
    "field", ["name", "description", "entity", "category_code", "wage", "wage_type"]
)
def test_required_fields(client, sandbox_key, entity, field):
    body = new_job(entity["id"])
    del body[field]
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    error = assert_error(response, 400, "invalid_input")
    assert field in {e["param"] for e in error["errors"]}
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_a_description_of_the_documented_maximum_length_is_stored(client, sandbox_key, entity):
    """JobDescription allows 5000 characters; each of them is kept, on every database."""
    description = "d" * 5000
    response = client.post(
        URL, json=new_job(entity["id"], description=description), headers=bearer(sandbox_key)
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["description"] == description
    fetched = client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json()
    assert fetched["description"] == description


def test_a_description_over_the_maximum_length_is_refused(client, sandbox_key, entity):
    response = client.post(
        URL, json=new_job(entity["id"], description="d" * 5001), headers=bearer(sandbox_key)
    )
    assert_error(response, 400, "invalid_input")


def test_listed_jobs_equal_retrieved_ones(client, sandbox_key, create):
    remote = create(address=None, years_experience=3)
    onsite = create()
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert listed == [onsite, remote]


def test_an_unknown_entity_is_a_404_naming_it(client, sandbox_key):
    response = client.post(URL, json=new_job("en_missing"), headers=bearer(sandbox_key))
    assert_error(response, 404, "invalid_entity_id", param="entity")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_another_accounts_entity_is_unknown(client, new_key):
    theirs = created(
        client.post(
            "/api/v1/entities", json=new_entity(), headers=bearer(new_key(account="acct_a"))
        )
    )
    mine = new_key(account="acct_b")
    response = client.post(URL, json=new_job(theirs["id"]), headers=bearer(mine))
    assert_error(response, 404, "invalid_entity_id", param="entity")
    assert client.get(URL, headers=bearer(mine)).json() == []


def test_an_entity_of_the_other_environment_is_unknown(client, new_key):
    live = new_key(Environment.PRODUCTION)
    theirs = created(client.post("/api/v1/entities", json=new_entity(), headers=bearer(live)))
    response = client.post(URL, json=new_job(theirs["id"]), headers=bearer(new_key()))
    assert_error(response, 404, "invalid_entity_id", param="entity")


def test_an_unknown_category_is_a_404_naming_it(client, sandbox_key, entity):
    body = new_job(entity["id"], category_code=UNKNOWN_CATEGORY)
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 404, "invalid_job_category_code", param="category_code")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_a_malformed_category_is_refused(client, sandbox_key, entity):
    body = new_job(entity["id"], category_code="xx_1")
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")


def test_an_unapproved_category_is_refused(client, sandbox_key, entity):
    body = new_job(entity["id"], category_code=_unapproved_category())
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "job_category_not_approved", param="category_code")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_every_approved_category_is_accepted(client, sandbox_key, create):
    approved = [row["id"] for row in _catalogue() if row["approved"]]
    for code in approved:
        assert create(category_code=code)["category_code"] == code


@pytest.mark.parametrize("wage", [100, 100000000])
def test_wages_at_the_bounds_are_accepted(create, wage):
    assert create(wage=wage)["wage"] == wage


@pytest.mark.parametrize("wage", [99, 100000001, 0, -100])
def test_wages_out_of_bounds_are_refused(client, sandbox_key, entity, wage):
    response = client.post(URL, json=new_job(entity["id"], wage=wage), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


@pytest.mark.parametrize("wage_type", ["flatfee", "hourly", "unit", "blended"])
def test_each_wage_type_is_accepted(create, wage_type):
    assert create(wage_type=wage_type)["wage_type"] == wage_type


@pytest.mark.parametrize("wage_type", ["daily", "Hourly", "", "salary"])
def test_other_wage_types_are_refused(client, sandbox_key, entity, wage_type):
    body = new_job(entity["id"], wage_type=wage_type)
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")


@pytest.mark.parametrize("years", [0, 100])
def test_years_of_experience_at_the_bounds_are_accepted(create, years):
    assert create(years_experience=years)["years_experience"] == years


@pytest.mark.parametrize("years", [-1, 101])
def test_years_of_experience_out_of_bounds_are_refused(client, sandbox_key, entity, years):
    body = new_job(entity["id"], years_experience=years)
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")


def test_unknown_fields_are_refused(client, sandbox_key, entity):
    response = client.post(
        URL, json=new_job(entity["id"], shift="night"), headers=bearer(sandbox_key)
    )
    body = assert_error(response, 400, "invalid_input")
    assert "shift" in body["message"]
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_update_changes_only_what_it_names(client, sandbox_key, create):
    job = create(years_experience=4)
    response = client.put(
        f"{URL}/{job['id']}",
        json={"name": "Senior technician", "wage": 2000, "wage_type": "hourly"},
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**job, "name": "Senior technician", "wage": 2000, "wage_type": "hourly"}
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == updated


def test_an_empty_update_changes_nothing(client, sandbox_key, create):
    job = create(years_experience=4)
    response = client.put(f"{URL}/{job['id']}", json={}, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assert response.json() == job


def test_update_replaces_the_address_whole(client, sandbox_key, create):
    job = create(
        address={
            "line1": "1 Kearny St",
            "locality": "San Francisco",
            "postalcode": "94104",
            "region": "CA",
        }
    )
    address = {"postalcode": "78701", "region": "TX"}
    response = client.put(
        f"{URL}/{job['id']}", json={"address": address}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["address"] == address
    assert (
        client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json()["address"] == address
    )


def test_a_null_address_makes_the_job_remote(client, sandbox_key, create):
    job = create()
    assert job["address"] is not None
    response = client.put(f"{URL}/{job['id']}", json={"address": None}, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assert response.json() == {**job, "address": None}
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json()["address"] is None


def test_an_address_makes_a_remote_job_onsite(client, sandbox_key, create):
    job = create(address=None)
    address = {"postalcode": "10001", "region": "NY"}
    response = client.put(
        f"{URL}/{job['id']}", json={"address": address}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**job, "address": address}


def test_a_null_years_of_experience_removes_it(client, sandbox_key, create):
    job = create(years_experience=7)
    assert job["years_experience"] == 7
    response = client.put(
        f"{URL}/{job['id']}", json={"years_experience": None}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**job, "years_experience": None}
    fetched = client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json()
    assert fetched["years_experience"] is None


@pytest.mark.parametrize(
    "field", ["name", "description", "entity", "category_code", "wage", "wage_type"]
)
def test_fields_that_cannot_be_null_refuse_null_on_update(client, sandbox_key, create, field):
    job = create()
    response = client.put(f"{URL}/{job['id']}", json={field: None}, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


def test_update_can_move_the_job_to_another_entity_and_category(client, sandbox_key, create):
    job = create()
    other = created(
        client.post(
            "/api/v1/entities", json=new_entity(name="Other, Inc"), headers=bearer(sandbox_key)
        )
    )
    category = _other_approved_category()
    response = client.put(
        f"{URL}/{job['id']}",
        json={"entity": other["id"], "category_code": category},
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**job, "entity": other["id"], "category_code": category}


def test_update_to_an_unknown_entity_is_a_404(client, sandbox_key, create):
    job = create()
    response = client.put(
        f"{URL}/{job['id']}", json={"entity": "en_missing"}, headers=bearer(sandbox_key)
    )
    assert_error(response, 404, "invalid_entity_id", param="entity")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


def test_update_to_another_accounts_entity_is_a_404(client, new_key):
    mine = new_key(account="acct_a")
    theirs = created(
        client.post(
            "/api/v1/entities", json=new_entity(), headers=bearer(new_key(account="acct_b"))
        )
    )
    my_entity = created(client.post("/api/v1/entities", json=new_entity(), headers=bearer(mine)))
    job = created(client.post(URL, json=new_job(my_entity["id"]), headers=bearer(mine)))
    response = client.put(f"{URL}/{job['id']}", json={"entity": theirs["id"]}, headers=bearer(mine))
    assert_error(response, 404, "invalid_entity_id", param="entity")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(mine)).json() == job


def test_update_to_an_unknown_category_is_a_404(client, sandbox_key, create):
    job = create()
    response = client.put(
        f"{URL}/{job['id']}", json={"category_code": UNKNOWN_CATEGORY}, headers=bearer(sandbox_key)
    )
    assert_error(response, 404, "invalid_job_category_code", param="category_code")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


def test_update_to_an_unapproved_category_is_refused(client, sandbox_key, create):
    job = create()
    response = client.put(
        f"{URL}/{job['id']}",
        json={"category_code": _unapproved_category()},
        headers=bearer(sandbox_key),
    )
    assert_error(response, 400, "job_category_not_approved", param="category_code")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


@pytest.mark.parametrize(
    "changes",
    [{"wage": 99}, {"wage": 100000001}, {"wage_type": "daily"}, {"years_experience": 101}],
)
def test_update_applies_the_bounds_of_creation(client, sandbox_key, create, changes):
    job = create()
    response = client.put(f"{URL}/{job['id']}", json=changes, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


@pytest.mark.parametrize("wage", [100, 100000000])
def test_update_accepts_wages_at_the_bounds(client, sandbox_key, create, wage):
    job = create()
    response = client.put(f"{URL}/{job['id']}", json={"wage": wage}, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assert response.json()["wage"] == wage


@pytest.mark.parametrize("body", [{"shift": "night"}, {"id": "jb_other"}, {"created": 1}])
def test_update_refuses_unknown_and_read_only_fields(client, sandbox_key, create, body):
    job = create()
    response = client.put(f"{URL}/{job['id']}", json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(sandbox_key)).json() == job


@pytest.mark.storage
def test_a_job_with_a_policy_cannot_be_deleted(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])
    url = f"{URL}/{made['job']['id']}"
    response = client.delete(url, headers=bearer(sandbox_key))
    assert_error(response, 400, "job_is_used")
    still = client.get(url, headers=bearer(sandbox_key))
    assert still.status_code == 200
    assert still.json() == made["job"]


def test_a_job_whose_policy_was_cancelled_is_still_used(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])
    entity_url = f"/api/v1/entities/{made['entity']['id']}"
    assert client.delete(entity_url, headers=bearer(sandbox_key)).status_code == 200
    response = client.delete(f"{URL}/{made['job']['id']}", headers=bearer(sandbox_key))
    assert_error(response, 400, "job_is_used")


def test_a_job_whose_quote_has_no_policy_can_be_deleted(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    url = f"{URL}/{made['job']['id']}"
    response = client.delete(url, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == made["job"]["id"]
    assert response.json()["deleted"] is True
    assert_error(client.get(url, headers=bearer(sandbox_key)), 404, "resource_not_found")


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_accounts_job_does_not_exist_for_you(client, new_key, create, method):
    job = create(key=new_key(account="acct_a"))
    other = new_key(account="acct_b")
    kwargs = {"json": {"wage": 2000}} if method == "put" else {}
    response = client.request(method.upper(), f"{URL}/{job['id']}", headers=bearer(other), **kwargs)
    assert_error(response, 404, "resource_not_found")
    assert client.get(URL, headers=bearer(other)).json() == []
    owner = new_key(account="acct_a")
    assert client.get(f"{URL}/{job['id']}", headers=bearer(owner)).json() == job
