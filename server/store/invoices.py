"""Invoice rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from server.store.listing import owned
from server.store.records import Records, Repository
from server.store.tables import invoices

INVOICES = Records(invoices, "in")


class CycleInvoiced(Exception):
    """The unique index refused a second invoice of the contractor, job and pay cycle."""


class InvoiceRepository(Repository):
    conflict = staticmethod(lambda fields: CycleInvoiced())

    records = INVOICES

    def for_cycle(self, contractor_id: str, job_id: str, start: int, end: int) -> dict | None:
        query = owned(invoices, self.principal).where(
            invoices.c.contractor == contractor_id,
            invoices.c.job == job_id,
            invoices.c.paycycle_startdate == start,
            invoices.c.paycycle_enddate == end,
        )
        row = self.connection.execute(query).first()
        return None if row is None else INVOICES.record(row)

    def update(self, object_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return super().update(object_id, fields)
        except IntegrityError as error:
            raise CycleInvoiced() from error
