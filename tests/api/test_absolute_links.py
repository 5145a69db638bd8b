"""`serve` without TEN99_PUBLIC_URL: every link it hands out, in a response, an email or a webhook
delivery, is absolute, on the address it listens on, and opens."""

from __future__ import annotations

import httpx

from tests.api.test_assignments import assign_to
from tests.conftest import bearer, bind, created, underwrite
from tests.live import eventually
from tests.webhook_receiver import Receiver


def test_every_link_is_absolute_and_opens(live_server):
    api_key = live_server.new_key()
    with Receiver() as receiver:
        origin = live_server.base_url.removesuffix("/api/v1")
        key = bearer(api_key)
        with httpx.Client(base_url=origin, timeout=30) as client:
            endpoint = client.post(
                "/api/v1/webhook_endpoints",
                json={"url": receiver.url, "enabled_events": ["assignment.extended"]},
                headers=key,
            ).json()
            receiver.secret = endpoint["secret"]
            made = underwrite(client, api_key)
            policy = bind(client, api_key, made["quote"]["id"])
            policy = eventually(
                lambda: client.get(f"/api/v1/policies/{policy['id']}", headers=key).json(),
                lambda found: found["pdf_url"] is not None,
            )
            _opens(policy["pdf_url"], origin)
            job = created(
                client.post("/api/v1/jobs", json={**_job(made), "name": "Night"}, headers=key)
            )
            assignment = created(assign_to(client, api_key, {**made, "job2": job}, "job2"))
            settled = eventually(
                lambda: client.get(f"/api/v1/assignments/{assignment['id']}", headers=key).json(),
                lambda found: not found["certificate_refresh_pending"],
            )
            extension = {"job_id": job["id"], "end_date": settled["end_date"] + 86400}
            assert client.post("/api/v1/assignments/extend", json=extension, headers=key).is_success
            # The extension's delivery carries the regenerated certificates' links.
            delivered = eventually(lambda: receiver.delivered, bool)
            certificates = delivered[0]["data"]["object"]["certificates"]
            assert certificates
            for link in certificates.values():
                _opens(link, origin)
            shown = client.get(f"/api/v1/assignments/{assignment['id']}", headers=key).json()
            assert shown["certificates"] == certificates


def _opens(link: str, origin: str) -> None:
    assert link.startswith(origin + "/files/"), link
    opened = httpx.get(link)  # no API key: the link is the credential
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "application/pdf"


def _job(made: dict) -> dict:
    job = made["job"]
    fields = ("description", "entity", "category_code", "wage", "wage_type", "address")
    return {name: job[name] for name in fields if name in job}
