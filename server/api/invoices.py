"""Invoice operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import invoices
from server.store.unit_of_work import UnitOfWork


def list_invoices(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.InvoiceList:
    found = invoices.list_(uow, page("invoice", limit, starting_after, ending_before))
    return [show.invoice(r, live=uow.live) for r in found]


def create_invoice(uow: UnitOfWork, body: schemas.InvoiceCreate) -> schemas.Invoice:
    return show.invoice(invoices.create(uow, body), live=uow.live)


def retrieve_invoice(uow: UnitOfWork, invoice_id: str) -> schemas.Invoice:
    return show.invoice(invoices.retrieve(uow, invoice_id), live=uow.live)


def update_invoice(
    uow: UnitOfWork, invoice_id: str, body: schemas.InvoiceUpdate
) -> schemas.Invoice:
    return show.invoice(invoices.update(uow, invoice_id, body), live=uow.live)


def delete_invoice(uow: UnitOfWork, invoice_id: str) -> show.Deleted:
    return show.deletion(invoice_id, "invoice", invoices.delete(uow, invoice_id), live=uow.live)
