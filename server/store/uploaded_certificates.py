"""Rows of the certificates uploaded for review."""

from __future__ import annotations

from sqlalchemy import func, select, union

from server.store.listing import ownership
from server.store.records import Records, Repository
from server.store.tables import assignments, entities, jobs, quotes, uploaded_certificates

UPLOADED_CERTIFICATES = Records(uploaded_certificates, "ci")


class UploadedCertificateRepository(Repository):
    records = UPLOADED_CERTIFICATES

    def stored_bytes(self) -> int:
        """The size of every certificate the caller uploaded, in bytes."""
        table = uploaded_certificates
        query = select(func.coalesce(func.sum(table.c.size), 0)).where(
            *ownership(table, self.principal)
        )
        return int(self.connection.execute(query).scalar_one())

    def entities_of(self, contractor_id: str) -> list[dict]:
        """The entities the contractor works for: those of the jobs it was quoted or assigned
        for, with the coverage they require and its limits."""
        jobs_of_contractor = union(
            select(quotes.c.job).where(quotes.c.contractor == contractor_id),
            select(assignments.c.job).where(assignments.c.contractor == contractor_id),
        ).subquery()
        query = (
            select(entities.c.id, entities.c.required_coverage, entities.c.coverage_limit)
            .join(jobs, jobs.c.entity == entities.c.id)
            .where(
                jobs.c.id.in_(select(jobs_of_contractor.c.job)),
                *ownership(entities, self.principal),
            )
        )
        # One each (JSON columns have no equality in PostgreSQL for DISTINCT).
        found = {row.id: dict(row._mapping) for row in self.connection.execute(query)}
        return list(found.values())
