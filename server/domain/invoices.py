"""Invoices: pay-as-you-go billing. A platform reports what a contractor earned for a job over a
pay cycle; the invoice computes the premium owed on it at the net rate of the coverage in force
over the cycle, per coverage type. An invoice is open until paid (in the sandbox, marked paid
through the API), and a paid one is final."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from server.contract import schemas
from server.core.errors import InvalidRequest
from server.core.pagination import PageRequest
from server.core.principals import Environment
from server.domain import events, quotes, rating, required
from server.domain.terms import DAY
from server.store.invoices import CycleInvoiced
from server.store.unit_of_work import UnitOfWork

Status = Literal["open", "paid"]
OPEN: Status = "open"
PAID: Status = "paid"
# The contractor's card is charged a day after the invoice is made (the reference: the
# contractor is notified, then charged 24 hours later).
CHARGE_DELAY = DAY
# In the sandbox, a contractor whose email's local part ends so has a card that declines.
DECLINING_CARD = "+card_declined"
CYCLE_FIELDS = ("gross_pay", "paycycle_startdate", "paycycle_enddate")


def status_of(record: dict[str, Any]) -> Status:
    return OPEN if record["paid_at"] is None else PAID


@dataclass(frozen=True)
class Coverage:
    """A period during which the contractor is covered for the job, and at what rates."""

    policy: str
    start: int
    end: int
    net_rates: dict[str, int]  # coverage type -> cents per $100 earned


def _coverages(uow: UnitOfWork, contractor_id: str, job_id: str) -> list[Coverage]:
    """The contractor's coverage for the job: its bound assignment of the job first (the latest
    rating of this work), then the policies bound from quotes for the contractor and the job,
    newest first; cancelled policies cover nothing."""
    found = []
    assignment = uow.assignments.live_for_job(job_id)
    if assignment is not None and assignment["bind"] and assignment["contractor"] == contractor_id:
        policy = uow.policies.get(assignment["policy"])
        if policy is not None and not policy["cancelled"]:
            found.append(
                Coverage(
                    policy["id"],
                    assignment["effective_date"],
                    assignment["end_date"],
                    rating.net_rates(assignment),
                )
            )
    for policy, quote in uow.policies.live_for_contractor_job(contractor_id, job_id):
        found.append(
            Coverage(
                policy["id"],
                policy["effective_date"],
                policy["expiration_date"],
                rating.net_rates(quote),
            )
        )
    return found


def _coverage_of_cycle(uow: UnitOfWork, fields: Mapping[str, Any]) -> Coverage:
    """The coverage whose period holds the whole pay cycle, or the 400 that says why none does:
    dates out of order, no coverage during the cycle, or coverage over part of it only."""
    start, end = fields["paycycle_startdate"], fields["paycycle_enddate"]
    if end < start:
        raise InvalidRequest(
            f"paycycle_enddate ({end}) must not be before paycycle_startdate ({start}).",
            code="invalid_paycycle_enddate",
            param="paycycle_enddate",
        )
    overlapping = [
        c
        for c in _coverages(uow, fields["contractor"], fields["job"])
        if c.start <= end and start < c.end
    ]
    for coverage in overlapping:
        if coverage.start <= start and end <= coverage.end:
            return coverage
    if not overlapping:
        raise InvalidRequest(
            f"The contractor {fields['contractor']} has no policy in force for the job "
            f"{fields['job']} during the pay cycle.",
            code="no_active_policy",
            param="paycycle_startdate",
        )
    partial = overlapping[0]
    if start < partial.start:
        raise InvalidRequest(
            f"paycycle_startdate ({start}) is before the coverage of the policy "
            f"{partial.policy} starts ({partial.start}).",
            code="invalid_paycycle_startdate",
            param="paycycle_startdate",
        )
    raise InvalidRequest(
        f"paycycle_enddate ({end}) is after the coverage of the policy {partial.policy} ends "
        f"({partial.end}).",
        code="invalid_paycycle_enddate",
        param="paycycle_enddate",
    )


def _billed(uow: UnitOfWork, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an invoice for a contractor's earnings on a job over a pay cycle, with the
    premium owed on them: the gross pay at each coverage type's net rate."""
    coverage = _coverage_of_cycle(uow, fields)
    lines = [
        {
            "coverage_type": coverage_type,
            "net_rate": net_rate,
            "premium": rating.premium(fields["gross_pay"], net_rate),
        }
        for coverage_type, net_rate in coverage.net_rates.items()
    ]
    return {
        **{name: fields[name] for name in ("contractor", "job", *CYCLE_FIELDS)},
        "policy": coverage.policy,
        "premium": sum(line["premium"] for line in lines),
        "lines": lines,
    }


def _check_not_invoiced(uow: UnitOfWork, fields: dict[str, Any], invoice_id: str | None) -> None:
    existing = uow.invoices.for_cycle(
        fields["contractor"],
        fields["job"],
        fields["paycycle_startdate"],
        fields["paycycle_enddate"],
    )
    if existing is not None and existing["id"] != invoice_id:
        raise _cycle_invoiced(existing["id"])


def _cycle_invoiced(invoice_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"The invoice {invoice_id} already covers this contractor, job and pay cycle.",
        code="invoice_exists",
    )


def create(uow: UnitOfWork, fields: schemas.InvoiceCreate) -> dict[str, Any]:
    quotes.contractor_and_job(uow, fields)
    billed = _billed(uow, fields)
    _check_not_invoiced(uow, billed, None)
    try:
        record = uow.invoices.add(
            {
                **billed,
                "paid_at": None,
                "charge_at": uow.now + CHARGE_DELAY,
                "charge_announced": False,
            },
            uow.now,
        )
    except CycleInvoiced:
        raise _cycle_invoiced("made by a concurrent request") from None
    uow.publish("invoice.created", events.INVOICE, record)
    return record


def retrieve(uow: UnitOfWork, invoice_id: str) -> dict[str, Any]:
    return required(uow.invoices.get(invoice_id), "invoice", invoice_id, param="invoice_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.invoices.page(page)


def _open(uow: UnitOfWork, invoice_id: str, refusal: str) -> dict[str, Any]:
    record = retrieve(uow, invoice_id)
    if status_of(record) == PAID:
        raise InvalidRequest(
            f"The invoice {invoice_id} is paid and {refusal}.", code="invoice_already_paid"
        )
    return record


def update(uow: UnitOfWork, invoice_id: str, changes: schemas.InvoiceUpdate) -> dict[str, Any]:
    record = _open(uow, invoice_id, "can no longer change")
    paying = changes.get("status") == PAID
    if paying and uow.principal.environment is not Environment.SANDBOX:
        raise InvalidRequest(
            "Production invoices are paid through 1099Policy's billing; only a sandbox invoice "
            "is marked paid through the API.",
            code="sandbox_only",
            param="status",
        )
    given: Mapping[str, Any] = changes
    fields = {**record, **{name: given[name] for name in CYCLE_FIELDS if name in given}}
    rebilled = any(fields[name] != record[name] for name in CYCLE_FIELDS)
    if rebilled:
        fields = _billed(uow, fields)
        _check_not_invoiced(uow, fields, invoice_id)
    if paying:
        fields["paid_at"] = uow.now
    if not (rebilled or paying):
        return record
    try:
        updated = uow.invoices.update(invoice_id, fields)
    except CycleInvoiced:
        raise _cycle_invoiced("made by a concurrent request") from None
    if rebilled:
        uow.publish("invoice.updated", events.INVOICE, updated)
    if paying:
        uow.publish("invoice.paid", events.INVOICE, updated)
    return updated


def card_declines(contractor: dict[str, Any] | None) -> bool:
    """Whether the contractor's card declines a charge: in the sandbox, a contractor whose
    email's local part ends in DECLINING_CARD (`joe+card_declined@example.com`), as a test
    card number decides a charge; and a deleted contractor, who has no card on file."""
    if contractor is None:
        return True
    local_part = contractor["email"].rpartition("@")[0]
    return local_part.lower().endswith(DECLINING_CARD)


def charge(uow: UnitOfWork, invoice_id: str) -> None:
    """Charge the contractor's card the premium of an invoice still open, a day after it was
    made, as the reference's billing does: `invoice.charge_card_succeeded` and the invoice
    paid, or `invoice.charge_card_failed` and the invoice left open."""
    record = uow.invoices.get(invoice_id)
    if record is None or status_of(record) == PAID:
        return
    if not uow.invoices.mark(invoice_id, "charge_announced"):
        return  # another worker charged it
    if card_declines(uow.contractors.get(record["contractor"])):
        uow.publish("invoice.charge_card_failed", events.INVOICE, record)
        return
    paid = uow.invoices.update(invoice_id, {**record, "paid_at": uow.now})
    uow.publish("invoice.charge_card_succeeded", events.INVOICE, paid)
    uow.publish("invoice.paid", events.INVOICE, paid)


def delete(uow: UnitOfWork, invoice_id: str) -> int:
    """Delete an open invoice; returns when."""
    _open(uow, invoice_id, "cannot be deleted")
    uow.invoices.remove(invoice_id)
    uow.publish("invoice.deleted", events.DELETED, events.deletion(invoice_id, "invoice", uow.now))
    return uow.now
