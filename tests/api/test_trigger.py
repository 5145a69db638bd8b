"""`ten99-server trigger EVENT_TYPE`: for every event type of the contract, the objects it needs
are made in the sandbox, the event happens, and a real receiver gets it, signed."""

from __future__ import annotations

import pytest

from server.cli import main
from server.contract.spec import load_spec
from server.sandbox.triggers import TRIGGERS, fire
from tests.conftest import bearer, created
from tests.webhook_receiver import Receiver

EVENT_TYPES = load_spec()["components"]["schemas"]["EventType"]["enum"]


def test_every_event_type_of_the_contract_has_a_trigger():
    assert sorted(TRIGGERS) == sorted(EVENT_TYPES)


@pytest.fixture
def receiver(client, sandbox_key):
    with Receiver() as endpoint:
        body = {"url": endpoint.url, "enabled_events": ["*"]}
        made = client.post("/api/v1/webhook_endpoints", json=body, headers=bearer(sandbox_key))
        endpoint.secret = created(made)["secret"]
        yield endpoint


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.storage
def test_a_triggered_event_happens_and_is_delivered_signed(
    client, sandbox_key, database, settings, receiver, event_type
):
    fired = fire(database, settings, "acct_a", event_type)

    (event,) = fired.events
    assert event["type"] == event_type
    listed = client.get(f"/api/v1/events/{event['id']}", headers=bearer(sandbox_key))
    assert listed.status_code == 200 and listed.json()["type"] == event_type
    assert [d.outcome for d in fired.deliveries] == ["delivered (answered 200)"]
    (receipt,) = [r for r in receiver.receipts if r.event["id"] == event["id"]]
    assert receipt.verified
    assert receipt.event["data"]["object"]["id"] == event["object_id"]


@pytest.mark.storage
def test_the_command_reports_the_event_and_its_delivery(sandbox_key, settings, receiver, capsys):
    status = main(
        ["trigger", "policy.cancelled", "--account", "acct_a", "--database", settings.database_url]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    event_line, delivery_line = out.strip().splitlines()
    assert "  policy.cancelled  about pl_" in event_line
    assert delivery_line == f"  -> {receiver.url}: delivered (answered 200)"


def test_an_unknown_account_is_refused_in_one_line(sandbox_key, settings, capsys):
    status = main(
        [
            "trigger",
            "quote.created",
            "--account",
            "acct_nobody",
            "--database",
            settings.database_url,
        ]
    )
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "ten99-server: no account acct_nobody: `ten99-server keys create --account acct_nobody` "
        "makes it, with a key"
    )


def test_without_an_endpoint_the_command_says_how_to_add_one(sandbox_key, settings, capsys):
    status = main(
        [
            "trigger",
            "contractor.created",
            "--account",
            "acct_a",
            "--database",
            settings.database_url,
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "No enabled webhook endpoint of acct_a's sandbox receives contractor.created" in out
