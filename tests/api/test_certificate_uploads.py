"""Certificates of insurance uploaded for review (`POST /files/certificates`): what an upload
must be, the review in the background against the requirement of the contractor's entities,
decided in the sandbox by what the PDF's text states, and its outcome by `expand[]` and by
event."""

from __future__ import annotations

import pytest

from server.pdf.sample import stating as certificate_pdf
from tests.conftest import assert_error, bearer, created, underwrite

BASE = "/api/v1"
URL = f"{BASE}/files/certificates"
MILLION = "$1,000,000"
LIMITS = {"occurrence_limit": 100_000_000, "aggregate_limit": 200_000_000}  # cents


IN_FORCE = "expires 2099-12-31"
GOOD = certificate_pdf(
    "CERTIFICATE OF LIABILITY INSURANCE",
    "Insured: Joe Parker",
    f"General liability: each occurrence {MILLION}; aggregate $2,000,000; {IN_FORCE}",
)


@pytest.fixture
def insured(client, sandbox_key):
    """A contractor quoted for a job of an entity that requires general liability at $1M per
    occurrence and $2M aggregate."""
    return underwrite(client, sandbox_key, entity={"coverage_limit": LIMITS})["contractor"]


def upload(client, key, contractor_id, content=GOOD, filename="coi.pdf", media="application/pdf"):
    files = {"certificate": (filename, content, media)}
    data = {} if contractor_id is None else {"contractor": contractor_id}
    return client.post(URL, files=files, data=data, headers=bearer(key))


def get(client, key, certificate_id, *expand):
    query = "&".join(f"expand[]={e}" for e in expand)
    response = client.get(f"{URL}/{certificate_id}?{query}", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def reviewed(client, key, run_tasks, contractor_id, content, *expand):
    made = created(upload(client, key, contractor_id, content))
    run_tasks()
    return get(client, key, made["id"], *expand)


def test_an_upload_is_pending_then_approved_and_announced(client, sandbox_key, insured, run_tasks):
    made = created(upload(client, sandbox_key, insured["id"]))
    assert (made["status"], made["review_results"], made["filename"]) == (
        "pending",
        None,
        "coi.pdf",
    )
    assert made["id"].startswith("ci_") and made["contractor"] == insured["id"]
    stored = client.get(made["pdf_url"].removeprefix("http://testserver"))
    assert stored.content == GOOD  # the PDF as uploaded, without a key

    run_tasks()
    approved = get(client, sandbox_key, made["id"])
    assert (approved["status"], approved["review_results"]) == ("approved", None)
    summary = get(client, sandbox_key, made["id"], "review_results")["review_results"]
    assert summary["status"] == "approved" and summary["id"].startswith("ca_")
    assert summary["summary"] == {"total_rules": 1, "passed": 1, "failed": 0}
    assert set(summary) == {"id", "status", "summary", "created"}
    full = get(client, sandbox_key, made["id"], "review_results.full")["review_results"]
    assert full["parsed_certificate_json"] == {
        "insured": {"name": "Joe Parker"},
        "coverages": {
            "general": {
                "each_occurrence_dollars": 1_000_000,
                "aggregate_dollars": 2_000_000,
                "expiration_date": "2099-12-31",
            }
        },
    }
    [rule] = full["audit_results"]
    assert (rule["rule_path"], rule["result"], rule["manually_approved"]) == (
        "coverages.general",
        "pass",
        False,
    )
    events = client.get(f"{BASE}/events?type=certificate.approved", headers=bearer(sandbox_key))
    [event] = events.json()
    assert event["data"]["object"]["id"] == made["id"]
    assert event["data"]["object"]["review_results"]["summary"]["passed"] == 1


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (
            [f"General liability: each occurrence $500,000; aggregate $2,000,000; {IN_FORCE}"],
            "Each occurrence $500,000 is below the required $1,000,000.",
        ),
        (
            [
                f"General liability: each occurrence {MILLION}; aggregate $2,000,000; "
                "expires 2020-01-01"
            ],
            "expires 2020-01-01",
        ),
        (
            [f"Workers' compensation: statutory; {IN_FORCE}"],
            "General liability is required and the certificate does not state it.",
        ),
    ],
)
def test_a_rule_that_fails_flags_the_certificate(
    client, sandbox_key, insured, run_tasks, lines, why
):
    shown = reviewed(
        client,
        sandbox_key,
        run_tasks,
        insured["id"],
        certificate_pdf(*lines),
        "review_results.full",
    )
    assert shown["status"] == "flagged"
    assert shown["review_results"]["summary"] == {"total_rules": 1, "passed": 0, "failed": 1}
    assert why in shown["review_results"]["audit_results"][0]["message"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (certificate_pdf("Sandbox outcome: denied"), "denied"),
        (certificate_pdf("Sandbox outcome: error"), "error"),
        (b"%PDF-1.4\nthis is no PDF at all", "error"),
        (certificate_pdf(), "error"),  # no text
    ],
)
def test_the_text_chooses_denied_or_error(client, sandbox_key, insured, run_tasks, content, status):
    shown = reviewed(client, sandbox_key, run_tasks, insured["id"], content)
    assert shown["status"] == status
    types = [e["type"] for e in client.get(f"{BASE}/events", headers=bearer(sandbox_key)).json()]
    assert f"certificate.{status}" in types


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": None}, 400, "missing_certificate"),
        ({"contractor_id": None}, 400, "missing_contractor_id"),
        ({"filename": "coi.png"}, 400, "invalid_file_type"),
        ({"media": "image/png"}, 400, "invalid_mime_type"),
        ({"content": b"GIF89a not a pdf"}, 400, "invalid_mime_type"),
        ({"content": b"%PDF" + b"0" * (15 * 1024 * 1024)}, 400, "invalid_file_size"),
        ({"contractor_id": "cn_NoSuchContractor"}, 404, "invalid_contractor_id"),
    ],
)
def test_an_upload_that_is_not_a_certificate_is_refused(
    client, sandbox_key, insured, kwargs, status, code
):
    arguments = {"contractor_id": insured["id"], **kwargs}
    if arguments.get("content", GOOD) is None:
        response = client.post(
            URL,
            data={"contractor": insured["id"]},
            files={"other": ("x", b"x")},
            headers=bearer(sandbox_key),
        )
    else:
        response = upload(client, sandbox_key, **arguments)
    assert_error(response, status, code)
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


def test_a_contractor_no_entity_asks_coverage_of_has_no_requirement(client, sandbox_key):
    alone = underwrite(client, sandbox_key, entity={"required_coverage": []})["contractor"]
    assert_error(upload(client, sandbox_key, alone["id"]), 400, "no_insurance_requirement_found")


def test_an_upload_past_the_accounts_storage_is_refused(client_with, sandbox_key):
    client = client_with(certificate_storage_mb=1)
    contractor = underwrite(client, sandbox_key)["contractor"]
    big = GOOD + b"\n%" + b"0" * 600_000  # bytes after a PDF's end are still that PDF
    created(upload(client, sandbox_key, contractor["id"], big))
    assert_error(upload(client, sandbox_key, contractor["id"], big), 400, "storage_limit_reached")


def test_a_body_over_16_mib_is_413(client, sandbox_key, insured):
    big = b"%PDF" + b"0" * (16 * 1024 * 1024)
    assert_error(upload(client, sandbox_key, insured["id"], big), 413, "request_too_large")


def test_certificates_are_listed_newest_first_with_their_reviews(
    client, sandbox_key, insured, run_tasks
):
    first = created(upload(client, sandbox_key, insured["id"]))
    second = created(upload(client, sandbox_key, insured["id"]))
    run_tasks()
    listed = client.get(f"{URL}?expand[]=review_results", headers=bearer(sandbox_key)).json()
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    assert all(c["review_results"]["status"] == "approved" for c in listed)
    refused = client.get(f"{URL}?expand[]=everything", headers=bearer(sandbox_key))
    assert_error(refused, 400, "invalid_input", "expand[]")


def test_another_account_sees_none_of_them(client, sandbox_key, new_key, insured):
    made = created(upload(client, sandbox_key, insured["id"]))
    other = new_key(account="acct_other")
    assert client.get(f"{URL}/{made['id']}", headers=bearer(other)).status_code == 404
    assert client.get(URL, headers=bearer(other)).json() == []
