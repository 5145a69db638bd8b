"""Invoices: the premium on a pay cycle's earnings at the net rate of the coverage in force, the
pay cycle's rules, one invoice per contractor, job and cycle, paying in the sandbox, and the
events of each change."""

from __future__ import annotations

import pytest

from server.core.principals import Environment
from server.domain.terms import DAY
from server.store import invoices as invoice_rows
from tests.api.test_assignments import assign_to
from tests.conftest import assert_error, bearer, bind, created, new_job, underwrite

BASE = "/api/v1/invoices"


@pytest.fixture
def insured(client, sandbox_key):
    """A contractor with a general liability and workers' comp policy for a job, in force from
    its effective date for 30 days."""
    made = underwrite(client, sandbox_key, quote={"coverage_type": ["general", "workers-comp"]})
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    return made


def cycle_of(made, *, start_day=1, days=7) -> dict:
    """A pay cycle inside the policy's period, `start_day` days after it starts."""
    start = made["policy"]["effective_date"] + start_day * DAY
    return {"paycycle_startdate": start, "paycycle_enddate": start + days * DAY - 1}


def body_for(made, gross_pay=125000, **cycle) -> dict:
    return {
        "contractor": made["contractor"]["id"],
        "job": made["job"]["id"],
        "gross_pay": gross_pay,
        **(cycle or cycle_of(made)),
    }


def invoice(client, key, body):
    return client.post(BASE, json=body, headers=bearer(key))


def put(client, key, invoice_id, body):
    return client.put(f"{BASE}/{invoice_id}", json=body, headers=bearer(key))


def event_types(client, key) -> list[str]:
    listed = client.get("/api/v1/events", headers=bearer(key)).json()
    return [e["type"] for e in reversed(listed) if e["type"].startswith("invoice.")]


@pytest.mark.storage
def test_the_premium_is_gross_pay_at_each_net_rate_per_100_dollars(client, sandbox_key, insured):
    made = created(invoice(client, sandbox_key, body_for(insured, gross_pay=125000)))
    quote = insured["quote"]
    general, workers_comp = quote["gl_net_rate"], quote["wc_net_rate"]
    # 125,000 cents is $1,250.00: 12.5 times $100, at each rate in cents, rounded half up.
    assert made["lines"] == [
        {
            "coverage_type": "general",
            "net_rate": general,
            "premium": int(12.5 * general + 0.5),
        },
        {
            "coverage_type": "workers-comp",
            "net_rate": workers_comp,
            "premium": int(12.5 * workers_comp + 0.5),
        },
    ]
    assert made["premium"] == sum(line["premium"] for line in made["lines"])
    assert made["object"] == "invoice"
    assert made["id"].startswith("in_")
    assert made["policy"] == insured["policy"]["id"]
    assert (made["status"], made["paid_at"], made["currency"]) == ("open", None, "usd")
    assert made["gross_pay"] == 125000
    fetched = client.get(f"{BASE}/{made['id']}", headers=bearer(sandbox_key))
    assert fetched.json() == made


def test_a_cycle_must_be_in_order_and_inside_the_coverage(client, sandbox_key, insured):
    policy = insured["policy"]
    start, end = policy["effective_date"], policy["expiration_date"]
    cases = [
        (start + 5 * DAY, start + 4 * DAY, "invalid_paycycle_enddate", "paycycle_enddate"),
        (start - DAY, start + DAY, "invalid_paycycle_startdate", "paycycle_startdate"),
        (end - DAY, end + DAY, "invalid_paycycle_enddate", "paycycle_enddate"),
        (start - 9 * DAY, start - 2 * DAY, "no_active_policy", "paycycle_startdate"),
        (end + DAY, end + 8 * DAY, "no_active_policy", "paycycle_startdate"),
    ]
    for cycle_start, cycle_end, code, param in cases:
        cycle = {"paycycle_startdate": cycle_start, "paycycle_enddate": cycle_end}
        assert_error(invoice(client, sandbox_key, body_for(insured, **cycle)), 400, code, param)
    # The whole period, to the instant it ends, is one cycle.
    whole = {"paycycle_startdate": start, "paycycle_enddate": end}
    assert (
        created(invoice(client, sandbox_key, body_for(insured, **whole)))["policy"] == policy["id"]
    )


def test_without_a_policy_for_the_job_there_is_no_active_policy(client, sandbox_key, insured):
    unbound = underwrite(client, sandbox_key)
    unbound["policy"] = insured["policy"]  # its dates: a cycle when the insured is covered
    assert_error(invoice(client, sandbox_key, body_for(unbound)), 400, "no_active_policy")
    # The insured contractor on another job of theirs: the policy covers only its own job.
    other_job = {**insured, "job": unbound["job"]}
    assert_error(invoice(client, sandbox_key, body_for(other_job)), 400, "no_active_policy")


def test_a_cancelled_policy_covers_no_cycle(client, sandbox_key, insured):
    policy_url = f"/api/v1/policies/{insured['policy']['id']}"
    client.put(policy_url, json={"is_active": False}, headers=bearer(sandbox_key))
    assert_error(invoice(client, sandbox_key, body_for(insured)), 400, "no_active_policy")


def test_a_bound_assignment_is_invoiced_at_its_own_rating(client, sandbox_key, insured):
    insured["job2"] = created(
        client.post(
            "/api/v1/jobs",
            json=new_job(insured["entity"]["id"], name="Night shift"),
            headers=bearer(sandbox_key),
        )
    )
    assignment = created(assign_to(client, sandbox_key, insured, "job2", ("general",)))
    assert assignment["bind"]
    cycle = {
        "paycycle_startdate": assignment["effective_date"],
        "paycycle_enddate": assignment["effective_date"] + 7 * DAY,
    }
    body = {**body_for(insured, **cycle), "job": insured["job2"]["id"]}
    made = created(invoice(client, sandbox_key, body))
    assert made["policy"] == insured["policy"]["id"]
    assert [line["coverage_type"] for line in made["lines"]] == ["general"]
    assert made["lines"][0]["net_rate"] == assignment["net_rate"]


@pytest.mark.storage
def test_one_invoice_per_contractor_job_and_cycle(client, sandbox_key, insured):
    first = created(invoice(client, sandbox_key, body_for(insured)))
    again = invoice(client, sandbox_key, body_for(insured, gross_pay=1))
    assert first["id"] in assert_error(again, 400, "invoice_exists")["message"]
    # Another cycle is another invoice; moving it onto the first one's cycle is refused.
    second = created(
        invoice(client, sandbox_key, body_for(insured, **cycle_of(insured, start_day=8)))
    )
    assert_error(put(client, sandbox_key, second["id"], cycle_of(insured)), 400, "invoice_exists")


@pytest.mark.storage
def test_an_insert_that_loses_the_race_is_invoice_exists(client, sandbox_key, insured, monkeypatch):
    created(invoice(client, sandbox_key, body_for(insured)))
    # As if the other request committed between this one's check and its insert.
    monkeypatch.setattr(invoice_rows.InvoiceRepository, "for_cycle", lambda self, *cycle: None)
    assert_error(invoice(client, sandbox_key, body_for(insured)), 400, "invoice_exists")


def test_an_update_computes_the_premium_again(client, sandbox_key, insured):
    made = created(invoice(client, sandbox_key, body_for(insured, gross_pay=10000)))
    updated = put(client, sandbox_key, made["id"], {"gross_pay": 20000})
    assert updated.status_code == 200, updated.text
    changed = updated.json()
    assert [line["premium"] for line in changed["lines"]] == [
        2 * line["premium"] for line in made["lines"]
    ]
    assert changed["premium"] == 2 * made["premium"]
    moved = put(client, sandbox_key, made["id"], cycle_of(insured, start_day=3)).json()
    assert moved["paycycle_startdate"] == cycle_of(insured, start_day=3)["paycycle_startdate"]
    late = {"paycycle_enddate": insured["policy"]["expiration_date"] + DAY}
    assert_error(put(client, sandbox_key, made["id"], late), 400, "invalid_paycycle_enddate")
    # Nothing new is no change, and no event.
    assert put(client, sandbox_key, made["id"], {"gross_pay": 20000}).json() == moved
    assert event_types(client, sandbox_key) == [
        "invoice.created",
        "invoice.updated",
        "invoice.updated",
    ]


def test_a_sandbox_invoice_is_marked_paid_and_is_then_final(client, sandbox_key, insured):
    made = created(invoice(client, sandbox_key, body_for(insured)))
    paid = put(client, sandbox_key, made["id"], {"status": "paid"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert isinstance(paid.json()["paid_at"], int)
    assert paid.json()["premium"] == made["premium"]
    for change in ({"gross_pay": 1}, {"status": "paid"}, {}):
        assert_error(put(client, sandbox_key, made["id"], change), 400, "invoice_already_paid")
    deleted = client.delete(f"{BASE}/{made['id']}", headers=bearer(sandbox_key))
    assert_error(deleted, 400, "invoice_already_paid")
    assert event_types(client, sandbox_key) == ["invoice.created", "invoice.paid"]
    events = client.get("/api/v1/events?type=invoice.paid", headers=bearer(sandbox_key)).json()
    assert events[0]["data"]["object"] == paid.json()


def test_a_production_invoice_is_not_paid_through_the_api(client, new_key):
    live = new_key(Environment.PRODUCTION)
    insured = underwrite(client, live, quote={"coverage_type": ["general", "workers-comp"]})
    insured["policy"] = bind(client, live, insured["quote"]["id"])
    made = created(invoice(client, live, body_for(insured)))
    assert_error(put(client, live, made["id"], {"status": "paid"}), 400, "sandbox_only", "status")
    assert client.get(f"{BASE}/{made['id']}", headers=bearer(live)).json()["status"] == "open"


def test_an_open_invoice_is_deleted(client, sandbox_key, insured):
    made = created(invoice(client, sandbox_key, body_for(insured)))
    deleted = client.delete(f"{BASE}/{made['id']}", headers=bearer(sandbox_key))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] is True
    missing = client.get(f"{BASE}/{made['id']}", headers=bearer(sandbox_key))
    assert_error(missing, 404, "resource_not_found", "invoice_id")
    # Its cycle may be invoiced again.
    created(invoice(client, sandbox_key, body_for(insured)))
    assert event_types(client, sandbox_key) == [
        "invoice.created",
        "invoice.deleted",
        "invoice.created",
    ]


def test_unknown_references_are_404s_that_name_the_field(client, sandbox_key, insured):
    body = body_for(insured)
    unknown_contractor = invoice(client, sandbox_key, {**body, "contractor": "cn_missing"})
    assert_error(unknown_contractor, 404, "invalid_contractor_id", "contractor")
    unknown_job = invoice(client, sandbox_key, {**body, "job": "jb_missing"})
    assert_error(unknown_job, 404, "invalid_job_id", "job")


def test_another_environments_invoice_does_not_exist(client, sandbox_key, new_key, insured):
    made = created(invoice(client, sandbox_key, body_for(insured)))
    live = new_key(Environment.PRODUCTION)
    assert client.get(f"{BASE}/{made['id']}", headers=bearer(live)).status_code == 404
    assert client.get(BASE, headers=bearer(live)).json() == []


def test_the_readmes_worked_example(client, sandbox_key):
    """The README's contractor (California, six years), job (automotive, medium risk) and
    quote, and its $1,250.00 pay cycle: the numbers it shows, computed by hand."""
    made = underwrite(
        client,
        sandbox_key,
        contractor={"years_experience": 6},
        quote={"coverage_type": ["general", "workers-comp"]},
    )
    assert (made["quote"]["gl_net_rate"], made["quote"]["wc_net_rate"]) == (23, 51)
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    invoiced = created(invoice(client, sandbox_key, body_for(made, gross_pay=125000)))
    assert invoiced["lines"] == [
        {"coverage_type": "general", "net_rate": 23, "premium": 288},
        {"coverage_type": "workers-comp", "net_rate": 51, "premium": 638},
    ]
    assert invoiced["premium"] == 926


# --- The card charged a day after -------------------------------------------------------------


@pytest.mark.storage
def test_a_day_after_the_invoice_the_card_is_charged_and_it_is_paid(
    client, sandbox_key, sandbox_clock
):
    at = sandbox_clock.start()
    made = underwrite(client, sandbox_key)
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    billed = created(invoice(client, sandbox_key, body_for(made)))
    sandbox_clock.advance(at + DAY - 1)
    before = client.get(f"{BASE}/{billed['id']}", headers=bearer(sandbox_key)).json()
    assert before["status"] == "open"
    sandbox_clock.advance(at + DAY)
    paid = client.get(f"{BASE}/{billed['id']}", headers=bearer(sandbox_key)).json()
    assert (paid["status"], paid["paid_at"]) == ("paid", at + DAY)
    assert event_types(client, sandbox_key) == [
        "invoice.created",
        "invoice.charge_card_succeeded",
        "invoice.paid",
    ]


def test_a_declining_card_leaves_the_invoice_open(client, sandbox_key, sandbox_clock):
    at = sandbox_clock.start()
    made = underwrite(client, sandbox_key, contractor={"email": "joe+card_declined@example.com"})
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    billed = created(invoice(client, sandbox_key, body_for(made)))
    sandbox_clock.advance(at + 2 * DAY)
    still = client.get(f"{BASE}/{billed['id']}", headers=bearer(sandbox_key)).json()
    assert (still["status"], still["paid_at"]) == ("open", None)
    assert event_types(client, sandbox_key) == ["invoice.created", "invoice.charge_card_failed"]


def test_an_invoice_paid_or_deleted_before_is_not_charged(client, sandbox_key, sandbox_clock):
    at = sandbox_clock.start()
    made = underwrite(client, sandbox_key)
    made["policy"] = bind(client, sandbox_key, made["quote"]["id"])
    paid = created(invoice(client, sandbox_key, body_for(made)))
    assert put(client, sandbox_key, paid["id"], {"status": "paid"}).status_code == 200
    deleted = created(invoice(client, sandbox_key, body_for(made, **cycle_of(made, start_day=9))))
    gone = client.delete(f"{BASE}/{deleted['id']}", headers=bearer(sandbox_key))
    assert gone.status_code == 200
    sandbox_clock.advance(at + 2 * DAY)
    assert not [t for t in event_types(client, sandbox_key) if "charge_card" in t]
