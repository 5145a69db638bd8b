"""Media and cyber liability through quotes, policies, assignments, invoices and their documents:
rated from rates.toml like the other coverage types, written beside general liability except
for residents of Hawaii, who are not offered general liability."""

from __future__ import annotations

from server.domain import rating
from tests.api.test_policies import pdf_text
from tests.conftest import bearer, bind, created, new_job, underwrite

BASE = "/api/v1"
DAY = 86400
WEB_DESIGN = "jc_Q680CLytiC"  # low risk; carries general, professional, media and cyber
BOTH = ["general", "media", "cyber"]


def media_and_cyber(client, key, *, region: str = "CA", coverage=BOTH) -> dict:
    address = {"line1": "1 Main St", "locality": "Somewhere", "postalcode": "96813"}
    return underwrite(
        client,
        key,
        contractor={"address": {**address, "region": region}},
        entity={"required_coverage": []},
        job={"category_code": WEB_DESIGN},
        quote={"coverage_type": coverage},
    )


def test_a_quote_rates_media_and_cyber_from_the_rate_table(client, sandbox_key):
    quote = media_and_cyber(client, sandbox_key)["quote"]
    assert quote["eligible"] is True, quote["eligibility_message"]
    expected = rating.rate(rating.rate_table(), BOTH, "low", "CA", None)
    assert quote["quote_json"] == expected.parts
    assert (quote["ml_net_rate"], quote["cl_net_rate"]) == (
        expected.parts["ml"]["net_rate"],
        expected.parts["cl"]["net_rate"],
    )
    assert quote["net_rate"] == expected.net_rate


def test_media_or_cyber_without_general_is_not_eligible_but_in_hawaii(client, sandbox_key):
    alone = media_and_cyber(client, sandbox_key, coverage=["media", "cyber"])["quote"]
    assert alone["eligible"] is False
    assert "General liability coverage is required beside" in alone["eligibility_message"]

    hawaiian = media_and_cyber(client, sandbox_key, region="HI", coverage=["cyber"])["quote"]
    assert hawaiian["eligible"] is True, hawaiian["eligibility_message"]
    refused = media_and_cyber(client, sandbox_key, region="HI")["quote"]
    assert refused["eligible"] is False
    assert refused["eligibility_message"] == (
        "General liability is not offered to residents of Hawaii."
    )


def test_a_media_policy_its_document_certificates_and_invoice(client, sandbox_key, run_tasks):
    key = bearer(sandbox_key)
    made = media_and_cyber(client, sandbox_key)
    policy = bind(client, sandbox_key, made["quote"]["id"])
    run_tasks()
    events = client.get(f"{BASE}/events?limit=100", headers=key).json()
    about_policy = [e["type"] for e in events if e["data"]["object"].get("id") == policy["id"]]
    assert {"policy.active", "policy.active.media"} <= set(about_policy)
    issued = client.get(f"{BASE}/policies/{policy['id']}", headers=key).json()
    text = pdf_text(client, issued["pdf_url"])
    assert "Media liability" in text and "Cyber liability" in text

    second_job = created(
        client.post(
            f"{BASE}/jobs",
            json=new_job(made["entity"]["id"], category_code=WEB_DESIGN, wage=50000),
            headers=key,
        )
    )
    assignment = created(
        client.post(
            f"{BASE}/assignments",
            json={
                "contractor": made["contractor"]["id"],
                "job": second_job["id"],
                "coverage_type": ["general", "cyber"],
            },
            headers=key,
        )
    )
    assert assignment["policy"] == policy["id"]
    run_tasks()
    certificates = client.get(f"{BASE}/assignments/{assignment['id']}", headers=key).json()[
        "certificates"
    ]
    assert set(certificates) == {"gl_coi_pdf_url", "cl_coi_pdf_url"}
    assert "Cyber liability" in pdf_text(client, certificates["cl_coi_pdf_url"])

    start = policy["effective_date"] + DAY
    invoice = created(
        client.post(
            f"{BASE}/invoices",
            json={
                "contractor": made["contractor"]["id"],
                "job": made["job"]["id"],
                "gross_pay": 100000,
                "paycycle_startdate": start,
                "paycycle_enddate": start + 7 * DAY,
            },
            headers=key,
        )
    )
    lines = {line["coverage_type"]: line for line in invoice["lines"]}
    assert set(lines) == set(BOTH)
    assert lines["media"]["premium"] == rating.premium(100000, made["quote"]["ml_net_rate"])
