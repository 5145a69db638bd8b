"""The reference documents' own examples (seeds: api-reference-1.6.12, assignments-extend), replayed
in their order from a contractor to a bound policy to an extended assignment. Only what cannot
be replayed as written is substituted: the ids each step made and the documents' dates (in 2022,
long past). Their numeric `postalcode`, their `limit` in a GET's JSON body and their id repeated
in a DELETE's body are sent as written."""

from __future__ import annotations

import json

from server.core.clock import now
from tests.conftest import bearer, created

BASE = "/api/v1"
DAY = 86400

CONTRACTOR = {
    "address": {
        "line1": "1 Kearny St",
        "locality": "San Francisco",
        "postalcode": 94104,
        "region": "CA",
    },
    "company_name": "Acme Co.",
    "custom_metadata": {"campaign": "Red Bull"},
    "email": "parker@gmail.com",
    "first_name": "Joe",
    "last_name": "Parker",
    "phone": "415-474-9088",
    "tax_identification": "12-3456789",
}
ENTITY = {
    "address": {
        "line1": "One Apple Park Way",
        "locality": "Cupertino",
        "postalcode": 95014,
        "region": "CA",
    },
    "coverage_limit": {"aggregate_limit": 200000000, "occurrence_limit": 100000000},
    "name": "Apple, Inc",
    "required_coverage": ["general", "workers-comp"],
}
JOB = {
    "category_code": "jc_MTqpkbkp6G",
    "description": "Install fiber optic cable from back to the front of the store.",
    "entity": "en_Ah3tqYn",
    "name": "Field technician",
    "wage": 15000,
    "wage_type": "flatfee",
    "years_experience": 10,
}
QUOTE = {
    "contractor": "cn_Ehb3bYa",
    "coverage_type": ["general", "workers-comp"],
    "job": "jb_jsb9KEcTpc",
}
SESSION = {
    "cancel_url": "https://1099jobcloud.com/1099policy/cancel",
    "quote": "qt_5DciVga8Kt",
    "success_url": "https://1099jobcloud.com/1099policy/success",
}
POLICY = {"effective_date": 1646818364, "expiration_date": 1678334737, "quote": "qt_5DciVga8Kt"}
EXTEND = {"job_id": "jb_jsb9KEcTpc", "end_date": 1735689600, "send_email": True}


def test_the_documents_examples_from_contractor_to_extended_assignment(client, sandbox_key):
    def post(path: str, body: dict) -> dict:
        return created(client.post(f"{BASE}{path}", json=body, headers=bearer(sandbox_key)))

    def with_body(method: str, path: str, body: dict):
        headers = {**bearer(sandbox_key), "Content-Type": "application/json"}
        return client.request(method, f"{BASE}{path}", content=json.dumps(body), headers=headers)

    contractor = post("/contractors", CONTRACTOR)
    assert contractor["address"]["postalcode"] == "94104"
    entity = post("/entities", ENTITY)
    assert entity["address"]["postalcode"] == "95014"
    job = post("/jobs", {**JOB, "entity": entity["id"]})
    quote = post("/quotes", {**QUOTE, "contractor": contractor["id"], "job": job["id"]})
    # The documents' contractor gives no experience and their job asks for ten years.
    assert quote["eligible"] is True, quote["eligibility_message"]
    session = post("/apply/sessions", {**SESSION, "quote": quote["id"]})
    assert session["status"] == "open"

    # The documents' policy term, moved to start tomorrow.
    shift = now() + DAY - POLICY["effective_date"]
    dates = {name: POLICY[name] + shift for name in ("effective_date", "expiration_date")}
    policy = post("/policies", {**POLICY, **dates, "quote": quote["id"]})
    assert (policy["status"], policy["quote"]) == ("active", quote["id"])
    assert policy["effective_date"] == dates["effective_date"]

    # No document shows an assignment's creation; the official libraries send these two fields.
    assignment = post("/assignments", {"contractor": contractor["id"], "job": job["id"]})
    assert assignment["bind"] is True and assignment["policy"] == policy["id"]

    extension = {**EXTEND, "job_id": job["id"], "end_date": assignment["end_date"] + 30 * DAY}
    extended = client.post(
        f"{BASE}/assignments/extend", json=extension, headers=bearer(sandbox_key)
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["end_date"] == extension["end_date"]
    assert extended.json()["certificate_refresh_pending"] is True

    listed = with_body("GET", "/contractors", {"limit": 25})
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()] == [contractor["id"]]

    deleted = with_body(
        "DELETE", f"/contractors/{contractor['id']}", {"contractor": contractor["id"]}
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] is True
