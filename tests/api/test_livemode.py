"""Nothing from the sandbox can pass for real cover: every object says which environment it is
of (`livemode`), and every document a sandbox key causes is stamped as a specimen."""

from __future__ import annotations

import io

import pypdf

from server.core.principals import Environment
from server.pdf.layout import SPECIMEN_STAMP
from tests.conftest import bearer, bind, created, new_job, underwrite


def _pages(client, url: str) -> list[str]:
    pdf = client.get(url)
    assert pdf.status_code == 200, url
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages]


def _covered(client, key, run_tasks) -> dict:
    """A bound policy with its document, and an assignment bound to it with its certificates."""
    made = underwrite(client, key, quote={"coverage_type": ["general", "workers-comp"]})
    made["policy"] = bind(client, key, made["quote"]["id"])
    job = client.post("/api/v1/jobs", json=new_job(made["entity"]["id"]), headers=bearer(key))
    body = {
        "contractor": made["contractor"]["id"],
        "job": created(job)["id"],
        "coverage_type": ["general", "workers-comp"],
    }
    made["assignment"] = created(client.post("/api/v1/assignments", json=body, headers=bearer(key)))
    run_tasks()
    for kind, plural in (("policy", "policies"), ("assignment", "assignments")):
        url = f"/api/v1/{plural}/{made[kind]['id']}"
        made[kind] = client.get(url, headers=bearer(key)).json()
    return made


def _livemodes(shown) -> list[bool]:
    """The livemode of every object in an answer, nested ones included."""
    found = []
    if isinstance(shown, list):
        for item in shown:
            found += _livemodes(item)
    elif isinstance(shown, dict):
        if isinstance(shown.get("object"), str):
            found.append(shown["livemode"])
        for value in shown.values():
            found += _livemodes(value)
    return found


def test_a_sandbox_key_sees_livemode_false_and_stamped_documents(client, sandbox_key, run_tasks):
    made = _covered(client, sandbox_key, run_tasks)
    for shown in made.values():
        assert shown["livemode"] is False, shown
    events = client.get("/api/v1/events", headers=bearer(sandbox_key)).json()
    assert events and set(_livemodes(events)) == {False}  # the events and the objects in them
    deleted = client.delete(
        f"/api/v1/contractors/{underwrite(client, sandbox_key)['contractor']['id']}",
        headers=bearer(sandbox_key),
    )
    assert deleted.json()["livemode"] is False

    documents = [made["policy"]["pdf_url"], *made["assignment"]["certificates"].values()]
    assert len(documents) == 3
    for url in documents:
        assert all(SPECIMEN_STAMP in page for page in _pages(client, url)), url


def test_a_live_key_sees_livemode_true_and_documents_without_the_stamp(client, new_key, run_tasks):
    live = new_key(Environment.PRODUCTION)
    made = _covered(client, live, run_tasks)
    for shown in made.values():
        assert shown["livemode"] is True, shown
    events = client.get("/api/v1/events", headers=bearer(live)).json()
    assert events and set(_livemodes(events)) == {True}
    documents = [made["policy"]["pdf_url"], *made["assignment"]["certificates"].values()]
    for url in documents:
        assert not any(SPECIMEN_STAMP in page for page in _pages(client, url)), url
