"""Objects at the spec's example ids, made before the conformance run, as stripe-mock ships
fixtures for its spec: the examples phase then reads, changes and deletes real objects (a
contractor, an entity, a job, a policy, an assignment, an application session, a webhook
endpoint with deliveries, an event, an invoice), binds a real eligible quote, assigns a covered
contractor, extends a bound assignment and invoices a pay cycle, instead of meeting only 404s,
whatever the random walk of the stateful phase reaches.

Each object is made through the API, then given its example id in the database before the
objects that refer to it are made."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy import create_engine, update

from server.store.tables import (
    application_sessions,
    assignments,
    contractors,
    entities,
    events,
    invoices,
    jobs,
    policies,
    quotes,
    webhook_deliveries,
    webhook_endpoints,
)
from tests.conftest import new_contractor, new_entity, new_job

EXAMPLE_IDS = {
    "contractor": "cn_Ehb3bYa",
    "entity": "en_Ah3tqYn",
    "job": "jb_jsb9KEcTpc",
    "quote": "qt_5DciVga8Kt",
    "policy": "pl_WzFRszJhoY",
    "assignment": "an_sF3yUB3BYY",
    "session": "ias_01FVCHXE7PNQHA1T3S2AXL2QZE",
    "webhook_endpoint": "we_8dPq2VbLx0",
    "event": "evt_3kT9wQm2ZsLp",
    "delivery": "whd_Vb2kQ8nLp4Xz",  # of the example event to the example endpoint
    # The assignment examples name a covered contractor and jobs of their own, which no other
    # example deletes: AssignmentCreate's contractor and job, AssignmentExtend's job.
    "assigned_contractor": "cn_Tq4wZm8Rv",
    "assignable_job": "jb_Pz6cVb3NxK",
    "extendable_job": "jb_Hd8sLq2WeY",
    # The invoice examples name the covered contractor, a job of its own and a pay cycle in
    # September 2024, which the coverage made for them spans.
    "invoiced_job": "jb_jW24jp6GYb",
    "invoice": "in_m47rNFQ3PS",
}
INVOICED_COVERAGE = (1725148800, 1727740800)  # 2024-09-01 to 2024-10-01
# Another cycle than the createInvoice example's, for the invoice at the example id.
INVOICED_CYCLE = (1726099200, 1726703999)
TABLES = {
    "contractor": contractors,
    "entity": entities,
    "job": jobs,
    "quote": quotes,
    "policy": policies,
    "assignment": assignments,
    "session": application_sessions,
    "webhook_endpoint": webhook_endpoints,
    "assigned_contractor": contractors,
    "assignable_job": jobs,
    "extendable_job": jobs,
    "invoiced_job": jobs,
    "invoice": invoices,
}
# The environment variable that hands the hooks the end dates of the bound assignments made
# here, by job: an extension must start from the current end date.
ASSIGNMENT_ENDS = "TEN99_CONFORMANCE_ASSIGNMENT_ENDS"


@dataclass
class Made:
    assignment_ends: dict[str, int] = field(default_factory=dict)


def make(base_url: str, api_key: str, database_url: str) -> Made:
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})
    engine = create_engine(database_url)
    made = Made()

    def create(kind: str | None, path: str, body: dict) -> dict:
        """POST the body; with a kind, move the object to that kind's example id."""
        response = api.post(path, json=body)
        response.raise_for_status()
        answer = response.json()
        if kind is None:
            return answer
        table = TABLES[kind]
        with engine.begin() as connection:
            connection.execute(
                update(table).where(table.c.id == answer["id"]).values(id=EXAMPLE_IDS[kind])
            )
        return {**answer, "id": EXAMPLE_IDS[kind]}

    def quote(contractor: str, job: str, coverage: list[str]) -> str:
        body = {"contractor": contractor, "job": job, "coverage_type": coverage}
        return create(None, "/quotes", body)["id"]

    try:
        # An endpoint for every event type first, so that the events below have deliveries.
        # (The worker's attempts to reach it fail without internet; they are recorded.)
        create(
            "webhook_endpoint",
            "/webhook_endpoints",
            {"url": "https://1099jobcloud.com/hooks/1099policy", "enabled_events": ["*"]},
        )
        # The examples delete the contractor, entity and job at the example ids early on, so
        # the example quote and policy stand on a chain of their own.
        create("contractor", "/contractors", new_contractor(years_experience=10))
        create("entity", "/entities", new_entity(required_coverage=[]))
        create("job", "/jobs", new_job(EXAMPLE_IDS["entity"]))
        contractor = create(None, "/contractors", new_contractor())["id"]
        entity = create(None, "/entities", new_entity())["id"]
        job = create(None, "/jobs", new_job(entity))["id"]
        # An eligible quote at the example id, left unbound for the createPolicy and
        # createApplicationSession examples, with a session for it at the example id...
        create(
            "quote", "/quotes", {"contractor": contractor, "job": job, "coverage_type": ["general"]}
        )
        create("session", "/apply/sessions", {"quote": EXAMPLE_IDS["quote"]})
        # ...and the example policy, bound on another quote.
        create("policy", "/policies", {"quote": quote(contractor, job, ["general"])})

        # A contractor covered for general liability and workers' comp, with jobs to assign.
        covered = create("assigned_contractor", "/contractors", new_contractor(years_experience=10))
        both = ["general", "workers-comp"]
        create(None, "/policies", {"quote": quote(covered["id"], job, both)})
        create("assignable_job", "/jobs", new_job(entity))
        example, extendable = [
            create(
                None,
                "/assignments",
                {
                    "contractor": covered["id"],
                    "job": create(None, "/jobs", new_job(entity))["id"],
                    "coverage_type": both,
                },
            )
            for _ in range(2)
        ]
        # The worker's tasks name the assignments by id: let it finish before the renaming.
        _await_certificates(api)
        _rename(engine, assignments, example["id"], EXAMPLE_IDS["assignment"])
        _rename(engine, jobs, extendable["job"], EXAMPLE_IDS["extendable_job"])
        with engine.begin() as connection:
            connection.execute(
                update(assignments)
                .where(assignments.c.id == extendable["id"])
                .values(job=EXAMPLE_IDS["extendable_job"])
            )
        made.assignment_ends[EXAMPLE_IDS["extendable_job"]] = extendable["end_date"]
        _make_invoiced(create, quote, engine, covered["id"], entity)
        event = api.get("/events", params={"limit": 1}).json()[0]["id"]
        _rename(engine, events, event, EXAMPLE_IDS["event"])
        with engine.begin() as connection:
            connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.event_id == event)
                .values(event_id=EXAMPLE_IDS["event"], id=EXAMPLE_IDS["delivery"])
            )
        return made
    finally:
        api.close()
        engine.dispose()


def _make_invoiced(create, quote, engine, contractor: str, entity: str) -> None:
    """A job of the covered contractor with coverage over the invoice examples' pay cycles, and
    an invoice at the example id."""
    job = create("invoiced_job", "/jobs", new_job(entity))["id"]
    policy = create(None, "/policies", {"quote": quote(contractor, job, ["general"])})["id"]
    effective, expiration = INVOICED_COVERAGE
    with engine.begin() as connection:
        connection.execute(
            update(policies)
            .where(policies.c.id == policy)
            .values(effective_date=effective, expiration_date=expiration)
        )
    start, end = INVOICED_CYCLE
    cycle = {"paycycle_startdate": start, "paycycle_enddate": end}
    body = {"contractor": contractor, "job": job, "gross_pay": 98000, **cycle}
    create("invoice", "/invoices", body)


def _rename(engine, table, current: str, example_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == current).values(id=example_id))


def _await_certificates(api: httpx.Client, timeout: float = 30) -> None:
    """Let the server's worker issue the fixtures' certificates before the run reads them."""
    deadline = time.monotonic() + timeout
    while any(a["certificate_refresh_pending"] for a in api.get("/assignments").json()):
        if time.monotonic() > deadline:
            raise RuntimeError("the server's worker issued no certificates")
        time.sleep(0.2)
