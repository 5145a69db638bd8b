"""The whole underwriting flow over real HTTP, as a platform runs it: entity, job, contractor,
quote, policy, and the policy document opened from its link."""

from __future__ import annotations

import io

import httpx
import pypdf
import pytest

from server.pdf.policy import format_date
from tests.conftest import new_contractor, new_entity, new_job
from tests.live import eventually


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


# The worker of a server process issues the documents: its claims differ between the databases.
@pytest.mark.storage
def test_entity_job_contractor_quote_policy_and_its_document(live):
    # HTTP Basic with the key as user name, as `curl -u <key>:` sends it.
    api = httpx.Client(base_url=live.base_url, auth=(live.new_key(), ""), timeout=30)

    categories = api.get("/category_codes", params={"limit": 100}).json()
    category = next(c for c in categories if c["approved"] and "general" in c["available_coverage"])
    entity = api.post("/entities", json=new_entity(name="Flow Logistics")).json()
    job = api.post("/jobs", json=new_job(entity["id"], category_code=category["id"])).json()
    contractor = api.post(
        "/contractors", json=new_contractor(first_name="Ada", years_experience=4)
    ).json()
    quote = api.post(
        "/quotes",
        json={"contractor": contractor["id"], "job": job["id"], "coverage_type": ["general"]},
    )
    assert quote.status_code == 201, quote.text
    quote = quote.json()
    assert quote["eligible"] is True, quote["eligibility_message"]
    assert quote["net_rate"] == quote["gl_net_rate"] > 0

    policy = api.post("/policies", json={"quote": quote["id"]})
    assert policy.status_code == 201, policy.text
    policy = policy.json()
    assert policy["status"] == "active"
    # The server's worker issues the document in the background, at once.
    assert policy["pdf_url"] is None
    policy = eventually(
        lambda: api.get(f"/policies/{policy['id']}").json(), lambda p: p["pdf_url"] is not None
    )

    # The document link works without the API key, as a contractor would open it.
    document = httpx.get(policy["pdf_url"], timeout=30)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    text = _pdf_text(document.content)
    assert policy["id"] in text
    assert format_date(policy["effective_date"]) in text
    assert format_date(policy["expiration_date"]) in text
    assert "Ada Parker" in text and "Flow Logistics" in text and "ACTIVE" in text

    cancelled = api.put(f"/policies/{policy['id']}", json={"is_active": False}).json()
    assert cancelled["status"] == "cancelled"
    cancelled = eventually(
        lambda: api.get(f"/policies/{policy['id']}").json(),
        lambda p: p["pdf_url"] != policy["pdf_url"],
    )
    assert httpx.get(policy["pdf_url"], timeout=30).status_code == 404
    assert "CANCELLED" in _pdf_text(httpx.get(cancelled["pdf_url"], timeout=30).content)

    refused = api.put(f"/quotes/{quote['id']}", json={"coverage_type": ["general"]})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "cant_update_create_new_quote"
