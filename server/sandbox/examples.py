"""The documents' examples, live: the objects the contract's examples name, at their ids, in an
account's sandbox, as stripe-mock serves its fixtures. Every example request of the contract then
does what it says, with the documents' own sandbox key: it reads, changes and deletes real
objects, binds an eligible quote, assigns a covered contractor, extends a bound assignment,
cancels one that has not started and invoices a pay cycle.

The sandbox runs on a test clock at the examples' time (September 2024): their dates (a pay cycle
in September 2024, an extension to 2025-01-01) fall where the coverage made then is, and stay
valid whatever the wall clock says."""

from __future__ import annotations

from server.contract import schemas
from server.core import ids
from server.core.principals import Environment, Principal, hash_key
from server.core.settings import Settings
from server.core.statuses import DISABLED
from server.domain import clocks, invoices, keys, sandboxes, webhooks
from server.domain.terms import DAY
from server.sandbox import MEETS_THE_EXAMPLE, Sandbox, example
from server.store import request_logs
from server.store.db import Database
from server.store.unit_of_work import UnitOfWork

# The key of the documents' curl examples (the API reference's "Authentication"), and the
# account it opens unless it was made a key of another one.
KEY = "t9k_test_wvnsjtZ8aMlbfGbIm0Lc0"
ACCOUNT = "acct_examples"
TIME = 1725148800  # 2024-09-01T00:00:00Z, the time of the sandbox's test clock
# Another pay cycle than the createInvoice example's, for the invoice at the example id.
INVOICED_CYCLE = (TIME + 11 * DAY, TIME + 18 * DAY - 1)

IDS = {
    "test_clock": "clock_Qm7Tz2LpXc",
    "webhook_endpoint": "we_8dPq2VbLx0",
    "contractor": "cn_Ehb3bYa",
    "entity": "en_Ah3tqYn",
    "job": "jb_jsb9KEcTpc",
    "quote": "qt_5DciVga8Kt",
    "session": "ias_01FVCHXE7PNQHA1T3S2AXL2QZE",
    "policy": "pl_WzFRszJhoY",
    # The assignment examples name a covered contractor and jobs of their own, which no other
    # example deletes: AssignmentCreate's contractor and job, AssignmentExtend's job.
    "assigned_contractor": "cn_Tq4wZm8Rv",
    "assignable_job": "jb_Pz6cVb3NxK",
    "assignment": "an_sF3yUB3BYY",
    "extendable_job": "jb_Hd8sLq2WeY",
    "cancellable_job": "jb_Cx5nRt7LmQ",  # AssignmentCancel's job, assigned from tomorrow
    # The invoice examples name the covered contractor, a job of its own and pay cycles in
    # September 2024.
    "invoiced_job": "jb_jW24jp6GYb",
    "invoice": "in_m47rNFQ3PS",
    # A certificate of insurance uploaded for the covered contractor.
    "certificate": "ci_YnsHeB9PTo",
    # The event of the example invoice's creation, and its delivery to the example endpoint.
    "event": "evt_3kT9wQm2ZsLp",
    "delivery": "whd_Vb2kQ8nLp4Xz",
    # A snapshot of the sandbox with all of the above (restoring it puts the examples back),
    # and the request log's example: a quote refused for the cover on file.
    "snapshot": "snap_Rk2mW8pQzT",
    "request": "req_8fKq2LzX0bWm4TnR",
}


def make(database: Database, settings: Settings) -> str:
    """The documents' key, and the sandbox it opens holding the examples and nothing else:
    whatever that sandbox held before is replaced. Returns the account's id."""
    with database.server_work() as work:
        key_store = work.keys
        found = key_store.find_active(hash_key(KEY))
        if found is None:
            keys.ensure_key(key_store, KEY, ACCOUNT)
        account_id = ACCOUNT if found is None else found.account_id
        principal = Principal(account_id, Environment.SANDBOX)
        work.wipe_sandbox(principal)
        work.forget_requests(principal, [IDS["request"]])
        work.log_requests(request_logs.batches_of({principal: [_logged_request()]}))
    sandbox = Sandbox(database, account_id)
    with ids.chosen(IDS["test_clock"]):
        sandbox.run(clocks.create, {"frozen_time": TIME, "name": "The examples' time"})
    _make(sandbox, settings)
    sandbox.run(lambda uow: uow.snapshots.remove(IDS["snapshot"]))  # an earlier run's
    limits = sandboxes.Limits(settings.snapshots_per_sandbox, settings.snapshot_storage_bytes)
    with ids.chosen(IDS["snapshot"]):
        sandbox.run(sandboxes.create, {"name": "The documents' examples"}, limits)
    return account_id


def _logged_request() -> dict:
    """The request log's example."""
    shown = example("RequestLog")
    return {
        **{name: shown[name] for name in LOGGED_AS_SHOWN},
        "id": IDS["request"],
        "created": TIME,
        "duration_us": round(shown["duration_ms"] * 1000),
    }


LOGGED_AS_SHOWN = (
    "method",
    "path",
    "operation_id",
    "status",
    "error_code",
    "idempotency_key",
    "idempotent_replayed",
    "test_fault",
    "request_body",
    "response_body",
)


def _invoice_and_its_delivery(uow: UnitOfWork, body: schemas.InvoiceCreate) -> None:
    """The invoice, its event and that event's delivery, in one transaction: a server's worker
    running beside `ten99-server examples` cannot route the event first (and with an id of its
    own)."""
    invoices.create(uow, body)
    uow.flush()
    webhooks.route_events(uow)


def _made(object_id: str, make_it):
    """What `make_it` made, the next object of the id's kind being given that id."""
    with ids.chosen(object_id):
        return make_it()


def _make(sandbox: Sandbox, settings: Settings) -> None:
    # An endpoint for every event type first, so that the events below have deliveries; it is
    # disabled at the end (see below).
    endpoint = {"url": example("WebhookEndpointCreate")["url"], "enabled_events": ["*"]}
    _made(
        IDS["webhook_endpoint"],
        lambda: sandbox.run(webhooks.create, endpoint, targets=settings.webhook_targets),
    )
    # The examples delete the contractor, entity and job at the example ids early on, so the
    # example quote and policy stand on a chain of their own.
    _made(IDS["contractor"], lambda: sandbox.contractor(years_experience=10))
    _made(IDS["entity"], lambda: sandbox.entity(required_coverage=[]))
    _made(IDS["job"], lambda: sandbox.job(IDS["entity"]))
    chain = sandbox.underwritten()
    contractor, entity, job = (chain[name]["id"] for name in ("contractor", "entity", "job"))
    # An eligible quote at the example id, left unbound for the createPolicy and
    # createApplicationSession examples, with a session for it at the example id...
    _made(IDS["quote"], lambda: sandbox.quote(contractor, job))
    _made(IDS["session"], lambda: sandbox.session(IDS["quote"]))
    # ...and the example policy, bound on another quote.
    other = sandbox.quote(contractor, job)["id"]
    _made(IDS["policy"], lambda: sandbox.policy(other))

    # A contractor covered for general liability and workers' comp (the quote example's
    # coverage), with jobs to assign.
    covered = _made(IDS["assigned_contractor"], lambda: sandbox.contractor(years_experience=10))
    sandbox.policy(sandbox.quote(covered["id"], job)["id"])
    _made(IDS["assignable_job"], lambda: sandbox.job(entity))
    assigned_job = sandbox.job(entity)["id"]
    _made(
        IDS["assignment"],
        lambda: sandbox.assignment(covered["id"], assigned_job),
    )
    _made(IDS["extendable_job"], lambda: sandbox.job(entity))
    sandbox.assignment(covered["id"], IDS["extendable_job"])
    _made(IDS["cancellable_job"], lambda: sandbox.job(entity))
    sandbox.assignment(covered["id"], IDS["cancellable_job"])

    # A job of the covered contractor with coverage over September 2024 (in another state: a
    # second quote for the cover on file would be refused), and an invoice at the example id,
    # whose creation is the example event.
    elsewhere = example("JobAddressInput", region="NV", postalcode="89501")
    _made(IDS["invoiced_job"], lambda: sandbox.job(entity, address=elsewhere))
    sandbox.policy(sandbox.quote(covered["id"], IDS["invoiced_job"])["id"])
    start, end = INVOICED_CYCLE
    body = example(
        "InvoiceCreate",
        contractor=covered["id"],
        job=IDS["invoiced_job"],
        paycycle_startdate=start,
        paycycle_enddate=end,
    )
    _made(
        IDS["certificate"],
        lambda: sandbox.certificate(covered["id"], *MEETS_THE_EXAMPLE),
    )
    sandbox.run(webhooks.route_events)  # the events so far, before the invoice's
    with ids.chosen(IDS["invoice"], IDS["event"], IDS["delivery"]):
        sandbox.run(_invoice_and_its_delivery, body)

    # The example endpoint's host is a real one, elsewhere: nothing is sent there until the
    # reader enables it (the updateWebhookEndpoint example's `status`). Its deliveries wait.
    sandbox.run(
        webhooks.update,
        IDS["webhook_endpoint"],
        {"status": DISABLED},
        targets=settings.webhook_targets,
    )
