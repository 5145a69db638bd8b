"""Contracting entities end to end through the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error, bearer, bind, new_entity, new_job, underwrite

URL = "/api/v1/entities"

ADDRESS = {
    "line1": "One Apple Park Way",
    "locality": "Cupertino",
    "postalcode": "95014",
    "region": "CA",
}


@pytest.fixture
def create(client, sandbox_key):
    def make(key: str = sandbox_key, **overrides) -> dict:
        response = client.post(URL, json=new_entity(**overrides), headers=bearer(key))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.mark.storage
def test_create_returns_the_whole_stored_entity(client, sandbox_key):
    body = {
        "name": "Apple, Inc",
        "address": {**ADDRESS, "line2": "Building 4", "country": "US"},
        "coverage_limit": {"aggregate_limit": 200000000, "occurrence_limit": 100000000},
        "required_coverage": ["general", "workers-comp"],
    }
    response = client.post(URL, json=body, headers=bearer(sandbox_key))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("en_")
    assert isinstance(created["created"], int) and created["created"] > 0
    assert created == {
        "id": created["id"],
        "object": "entity",
        "livemode": False,
        "created": created["created"],
        **body,
    }
    fetched = client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key))
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_only_the_name_is_required_and_the_rest_defaults(client, sandbox_key):
    response = client.post(URL, json={"name": "Acme"}, headers=bearer(sandbox_key))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": created["id"],
        "object": "entity",
        "livemode": False,
        "created": created["created"],
        "name": "Acme",
        "address": None,
        "coverage_limit": None,
        "required_coverage": [],
    }
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == created


def test_an_address_without_optional_lines_answers_them_as_null(create):
    created = create(address=ADDRESS)
    assert created["address"] == {**ADDRESS, "line2": None, "country": None}


def test_the_name_is_required(client, sandbox_key):
    response = client.post(
        URL, json={"required_coverage": ["general"]}, headers=bearer(sandbox_key)
    )
    body = assert_error(response, 400, "invalid_input")
    assert "name" in {e["param"] for e in body["errors"]}


def test_listed_entities_equal_retrieved_ones(client, sandbox_key, create):
    created = create(
        address=ADDRESS,
        coverage_limit={"aggregate_limit": 5000, "occurrence_limit": 2000},
    )
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert listed == [created]


def test_update_changes_only_what_it_names(client, sandbox_key, create):
    created = create(
        address=ADDRESS,
        coverage_limit={"aggregate_limit": 200000000, "occurrence_limit": 100000000},
        required_coverage=["general"],
    )
    response = client.put(
        f"{URL}/{created['id']}",
        json={"name": "Apple Computer", "required_coverage": ["general", "professional"]},
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {
        **created,
        "name": "Apple Computer",
        "required_coverage": ["general", "professional"],
    }
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == updated


def test_an_empty_update_changes_nothing(client, sandbox_key, create):
    created = create(address=ADDRESS)
    response = client.put(f"{URL}/{created['id']}", json={}, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_required_coverage_can_be_emptied(client, sandbox_key, create):
    created = create(required_coverage=["general", "workers-comp"])
    response = client.put(
        f"{URL}/{created['id']}", json={"required_coverage": []}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["required_coverage"] == []


def test_update_replaces_the_address_whole(client, sandbox_key, create):
    created = create(address={**ADDRESS, "line2": "Building 4", "country": "US"})
    address = {
        "line1": "410 Terry Ave N",
        "locality": "Seattle",
        "postalcode": "98109",
        "region": "WA",
    }
    response = client.put(
        f"{URL}/{created['id']}", json={"address": address}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["address"] == {**address, "line2": None, "country": None}
    assert response.json()["coverage_limit"] == created["coverage_limit"]


@pytest.mark.storage
def test_update_replaces_the_coverage_limit_whole(client, sandbox_key, create):
    created = create(coverage_limit={"aggregate_limit": 200000000, "occurrence_limit": 100000000})
    limit = {"aggregate_limit": 500000000, "occurrence_limit": 300000000}
    response = client.put(
        f"{URL}/{created['id']}", json={"coverage_limit": limit}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["coverage_limit"] == limit


@pytest.mark.parametrize("field", ["address", "coverage_limit"])
@pytest.mark.storage
def test_null_removes_the_address_or_the_coverage_limit(client, sandbox_key, create, field):
    created = create(
        address=ADDRESS,
        coverage_limit={"aggregate_limit": 200000000, "occurrence_limit": 100000000},
    )
    response = client.put(f"{URL}/{created['id']}", json={field: None}, headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**created, field: None}
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == updated


@pytest.mark.parametrize("field", ["name", "required_coverage"])
def test_fields_that_cannot_be_null_refuse_null_on_update(client, sandbox_key, create, field):
    created = create()
    response = client.put(f"{URL}/{created['id']}", json={field: None}, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == created


@pytest.mark.parametrize(
    "limit",
    [
        {"aggregate_limit": 999, "occurrence_limit": 999},
        {"aggregate_limit": 200000000, "occurrence_limit": 999},
        {"aggregate_limit": 999, "occurrence_limit": 500},
        {"aggregate_limit": 0, "occurrence_limit": 0},
        {"aggregate_limit": -5000, "occurrence_limit": 1000},
    ],
)
def test_limits_below_1000_cents_are_refused_on_create(client, sandbox_key, limit):
    response = client.post(URL, json=new_entity(coverage_limit=limit), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


@pytest.mark.parametrize(
    "limit",
    [
        {"aggregate_limit": 200000000, "occurrence_limit": 999},
        {"aggregate_limit": 999, "occurrence_limit": 999},
    ],
)
def test_limits_below_1000_cents_are_refused_on_update(client, sandbox_key, create, limit):
    created = create(coverage_limit={"aggregate_limit": 5000, "occurrence_limit": 5000})
    response = client.put(
        f"{URL}/{created['id']}", json={"coverage_limit": limit}, headers=bearer(sandbox_key)
    )
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == created


@pytest.mark.parametrize(
    "limit",
    [{"aggregate_limit": 200000000}, {"occurrence_limit": 100000000}, {}],
)
def test_a_coverage_limit_needs_both_limits(client, sandbox_key, limit):
    response = client.post(URL, json=new_entity(coverage_limit=limit), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")


def test_limits_of_exactly_1000_cents_are_accepted(create):
    created = create(coverage_limit={"aggregate_limit": 1000, "occurrence_limit": 1000})
    assert created["coverage_limit"] == {"aggregate_limit": 1000, "occurrence_limit": 1000}


def test_an_occurrence_limit_above_the_aggregate_is_refused_on_create(client, sandbox_key):
    limit = {"aggregate_limit": 100000000, "occurrence_limit": 100000001}
    response = client.post(URL, json=new_entity(coverage_limit=limit), headers=bearer(sandbox_key))
    assert_error(response, 400, "coverage_limit_invalid")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_an_occurrence_limit_above_the_aggregate_is_refused_on_update(client, sandbox_key, create):
    created = create(coverage_limit={"aggregate_limit": 200000000, "occurrence_limit": 100000000})
    limit = {"aggregate_limit": 100000000, "occurrence_limit": 200000000}
    response = client.put(
        f"{URL}/{created['id']}", json={"coverage_limit": limit}, headers=bearer(sandbox_key)
    )
    assert_error(response, 400, "coverage_limit_invalid")
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == created


def test_equal_occurrence_and_aggregate_limits_are_accepted(client, sandbox_key, create):
    limit = {"aggregate_limit": 100000000, "occurrence_limit": 100000000}
    created = create(coverage_limit=limit)
    assert created["coverage_limit"] == limit
    other = {"aggregate_limit": 300000000, "occurrence_limit": 300000000}
    response = client.put(
        f"{URL}/{created['id']}", json={"coverage_limit": other}, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["coverage_limit"] == other


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "x" * 201},
        {"required_coverage": ["life"]},
        {"required_coverage": ["general", "general"]},
        {"required_coverage": "general"},
        {"address": {"line1": "1 Main St", "postalcode": "94104", "region": "CA"}},
        {"address": {**ADDRESS, "region": "California"}},
        {"coverage_limit": {"aggregate_limit": "200000000", "occurrence_limit": 100000000}},
    ],
)
def test_invalid_fields_are_refused(client, sandbox_key, overrides):
    response = client.post(URL, json=new_entity(**overrides), headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_unknown_fields_are_refused_on_create(client, sandbox_key):
    response = client.post(URL, json=new_entity(website="apple.com"), headers=bearer(sandbox_key))
    body = assert_error(response, 400, "invalid_input")
    assert "website" in body["message"]
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"website": "apple.com"},
        {"id": "en_other"},
        {"created": 1646818364},
        {"coverage_limit": {"aggregate_limit": 5000, "occurrence_limit": 5000, "deductible": 1}},
        {"address": {**ADDRESS, "county": "Santa Clara"}},
    ],
)
def test_unknown_fields_are_refused_on_update(client, sandbox_key, create, body):
    created = create()
    response = client.put(f"{URL}/{created['id']}", json=body, headers=bearer(sandbox_key))
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).json() == created


def test_deleting_one_entity_leaves_the_others(client, sandbox_key, create):
    kept = create(name="Kept")
    gone = create(name="Gone")
    assert client.delete(f"{URL}/{gone['id']}", headers=bearer(sandbox_key)).status_code == 200
    assert client.get(URL, headers=bearer(sandbox_key)).json() == [kept]
    assert client.get(f"{URL}/{kept['id']}", headers=bearer(sandbox_key)).json() == kept


def test_a_deleted_entity_cannot_be_given_to_a_new_job(client, sandbox_key, create):
    created = create()
    assert client.delete(f"{URL}/{created['id']}", headers=bearer(sandbox_key)).status_code == 200
    response = client.post("/api/v1/jobs", json=new_job(created["id"]), headers=bearer(sandbox_key))
    assert_error(response, 404, "invalid_entity_id", param="entity")


def test_deleting_an_entity_cancels_the_policies_of_its_jobs(client, sandbox_key):
    doomed = underwrite(client, sandbox_key)
    spared = underwrite(client, sandbox_key, entity={"name": "Other, Inc"})
    doomed_policy = bind(client, sandbox_key, doomed["quote"]["id"])
    spared_policy = bind(client, sandbox_key, spared["quote"]["id"])
    assert doomed_policy["status"] == "active" and doomed_policy["is_active"] is True
    assert spared_policy["status"] == "active" and spared_policy["is_active"] is True

    response = client.delete(f"{URL}/{doomed['entity']['id']}", headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text

    cancelled = client.get(f"/api/v1/policies/{doomed_policy['id']}", headers=bearer(sandbox_key))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["is_active"] is False
    still = client.get(f"/api/v1/policies/{spared_policy['id']}", headers=bearer(sandbox_key))
    assert still.status_code == 200, still.text
    assert still.json()["status"] == "active"
    assert still.json()["is_active"] is True


@pytest.mark.storage
def test_deleting_an_entity_cancels_the_policies_of_every_one_of_its_jobs(client, sandbox_key):
    first = underwrite(client, sandbox_key)
    entity_id = first["entity"]["id"]
    headers = bearer(sandbox_key)
    second_job = client.post(
        "/api/v1/jobs", json=new_job(entity_id, name="Second job"), headers=headers
    ).json()
    second_quote = client.post(
        "/api/v1/quotes",
        json={
            "contractor": first["contractor"]["id"],
            "job": second_job["id"],
            "coverage_type": ["general"],
        },
        headers=headers,
    )
    assert second_quote.status_code == 201, second_quote.text
    policies = [
        bind(client, sandbox_key, first["quote"]["id"]),
        bind(client, sandbox_key, second_quote.json()["id"]),
    ]
    assert client.delete(f"{URL}/{entity_id}", headers=headers).status_code == 200
    for policy in policies:
        fetched = client.get(f"/api/v1/policies/{policy['id']}", headers=headers).json()
        assert (fetched["status"], fetched["is_active"]) == ("cancelled", False)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_accounts_entity_does_not_exist_for_you(client, new_key, create, method):
    created = create(key=new_key(account="acct_a"))
    other = new_key(account="acct_b")
    kwargs = {"json": {"name": "Mallory"}} if method == "put" else {}
    response = client.request(
        method.upper(), f"{URL}/{created['id']}", headers=bearer(other), **kwargs
    )
    assert_error(response, 404, "resource_not_found")
    assert client.get(URL, headers=bearer(other)).json() == []
    owner = new_key(account="acct_a")
    assert client.get(f"{URL}/{created['id']}", headers=bearer(owner)).json() == created
