"""The example payloads of the official client libraries' READMEs (Python `ten99policy` 1.1.12 and
Node `1099policy-node` 2.0.1 show the same ones), as written, for the tests that send what those
libraries send: tests/sdks/ and tests/api/test_node_client_requests.py."""

from __future__ import annotations

# Both READMEs give the limits as strings, which the documents type as integers: the contract
# refuses these (spec/CHANGELOG.md), and ENTITY_LIMITS is what the documents would send.
ENTITY = {
    "name": "Brooklyn Bowl",
    "coverage_limit": {"aggregate_limit": "200000000", "occurrence_limit": "100000000"},
    "address": {
        "line1": "3639 18th St",
        "locality": "San Francisco",
        "region": "CA",
        "postalcode": "94110",
    },
    "required_coverage": ["general", "workers-comp"],
}
ENTITY_LIMITS = {"aggregate_limit": 200000000, "occurrence_limit": 100000000}

CONTRACTOR = {
    "first_name": "John",
    "last_name": "Doe",
    "email": "john@doe.com",
    "phone": "415-111-1111",
    "tax_identification": "123-456789",
    "address": {
        "country": "USA",
        "line1": "2211 Mission St",
        "locality": "San Francisco",
        "region": "CA",
        "postalcode": "94110",
    },
}


def job(entity_id: str) -> dict:
    return {
        "name": "Truck driver",
        "description": "Requires a truck",
        "duration_hours": 20,
        "wage": 100,
        "years_experience": 20,
        "wage_type": "flatfee",
        "entity": entity_id,
        "category_code": "jc_MTqpkbkp6G",
    }
