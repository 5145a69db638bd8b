"""Form-encoded bodies, as the guides' curl examples send them (`curl -d email=… -d
"address[line1]=…" -d "events[]=…"`: curl joins its `-d` values with `&` and sends them as
they are, labelled application/x-www-form-urlencoded), validated by the JSON body's schema."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error, bearer, created, underwrite

BASE = "/api/v1"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def curl(client, sandbox_key):
    """`curl -X METHOD URL -d a -d b ...` with the sandbox key."""

    def send(method: str, path: str, *fields: str):
        headers = {**bearer(sandbox_key), "Content-Type": FORM}
        return client.request(method, f"{BASE}{path}", content="&".join(fields), headers=headers)

    return send


CONTRACTOR = (
    "email=jane@example.com",
    "first_name=Jane",
    "last_name=Smith",
    "phone=415-555-0100",
    "address[line1]=1 Main St",
    "address[locality]=Boston",
    "address[postalcode]=02134",
    "address[region]=MA",
    "years_experience=7",
    "custom_metadata[campaign]=Red Bull",
)


def test_a_contractor_from_a_form_is_the_contractor_json_makes(curl, client, sandbox_key):
    made = created(curl("POST", "/contractors", *CONTRACTOR))
    assert made["address"] == {
        "line1": "1 Main St",
        "line2": None,
        "locality": "Boston",
        "postalcode": "02134",  # a string field keeps its leading zero
        "region": "MA",
        "country": None,
    }
    assert (made["years_experience"], made["custom_metadata"]) == (7, {"campaign": "Red Bull"})

    # `null` is null where a field may be null; an integer field takes digits.
    updated = curl("PUT", f"/contractors/{made['id']}", "company_name=null", "years_experience=8")
    assert updated.status_code == 200, updated.text
    assert (updated.json()["company_name"], updated.json()["years_experience"]) == (None, 8)


def test_arrays_by_brackets_repetition_or_index(curl):
    for events in (
        ("events[]=policy.active", "events[]=assignment.cancelled"),
        ("events=policy.active", "events=assignment.cancelled"),
        ("events[0]=policy.active", "events[1]=assignment.cancelled"),
    ):
        endpoint = created(
            curl("POST", "/webhook_endpoints", "url=https://example.com/hooks", *events)
        )
        assert endpoint["events"] == ["policy.active", "assignment.cancelled"]
    one = created(curl("POST", "/webhook_endpoints", "url=https://example.com/a", "events=*"))
    assert one["enabled_events"] == ["*"]


def test_a_boolean_and_a_timestamp_are_typed_by_the_schema(curl, client, sandbox_key):
    made = underwrite(client, sandbox_key)
    policy = created(curl("POST", "/policies", f"quote={made['quote']['id']}"))
    shorter = policy["expiration_date"] - 86400
    updated = curl("PUT", f"/policies/{policy['id']}", f"expiration_date={shorter}")
    assert updated.json()["expiration_date"] == shorter, updated.text
    cancelled = curl("PUT", f"/policies/{policy['id']}", "is_active=false")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert_error(
        curl("PUT", f"/policies/{policy['id']}", "is_active=yes"), 400, "invalid_input", "is_active"
    )


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        (("years_experience=seven",), "years_experience"),
        (("years_experience=7.5",), "years_experience"),
        (("address=1 Main St",), "address"),
        (("first_name[x]=Jane",), "first_name"),
        (("colour=red",), "colour"),
    ],
)
def test_a_form_value_of_the_wrong_kind_is_refused_by_name(curl, fields, param):
    body = [f for f in CONTRACTOR if not f.startswith(tuple(f.split("=")[0] for f in fields))]
    assert_error(curl("POST", "/contractors", *body, *fields), 400, "invalid_input", param)


def test_a_form_that_nests_too_deeply_or_holds_nul_is_refused(curl):
    deep = "custom_metadata[a][b][c][d][e][f]=x"
    assert_error(curl("POST", "/contractors", *CONTRACTOR, deep), 400, "bad_request")
    assert_error(
        curl("POST", "/contractors", *CONTRACTOR[:-1], "custom_metadata[campaign]=a%00b"),
        400,
        "invalid_input",
        "custom_metadata.campaign",
    )


def test_json_that_curl_labels_form_encoded_is_read_as_json(curl):
    # The guide "Cancelling and deactivating" sends its JSON without a Content-Type.
    made = created(
        curl(
            "POST",
            "/contractors",
            '{"first_name":"Jo","last_name":"Lee","email":"jo@example.com","phone":"415-555-0101",'
            '"address":{"line1":"1 Main St","locality":"Boston","postalcode":"02134",'
            '"region":"MA"}}',
        )
    )
    assert made["first_name"] == "Jo"


def test_an_empty_value_is_the_empty_string_and_an_empty_form_changes_nothing(curl):
    made = created(curl("POST", "/contractors", *CONTRACTOR))
    refused = curl("PUT", f"/contractors/{made['id']}", "address[country]=", *CONTRACTOR[4:8])
    assert_error(refused, 400, "invalid_input", "address.country")
    unchanged = curl("PUT", f"/contractors/{made['id']}")
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json() == made


def test_a_postalcode_is_a_number_where_only_a_number_is_valid(curl):
    address = [f for f in CONTRACTOR if not f.startswith("address[postalcode]")]
    made = created(curl("POST", "/contractors", *address, "address[postalcode]=1"))
    assert made["address"]["postalcode"] == "00001"


def test_a_form_field_without_a_name_is_refused(curl):
    assert_error(curl("POST", "/contractors", *CONTRACTOR, "=null"), 400, "invalid_input")
