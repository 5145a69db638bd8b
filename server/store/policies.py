"""Policy rows. A deleted policy keeps its row, with `deleted_at` set, so that its quote stays
bound; the repository hides it from every read."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select

from server.core.pagination import PageRequest
from server.store.listing import owned, page_of
from server.store.prepared import Prepared
from server.store.records import Records, Repository, owner
from server.store.tables import jobs, policies, quotes

POLICIES = Records(policies, "pl")


_LIVE_DURING = Prepared(
    select(policies.c.id, quotes.c.coverage_type, jobs.c.category_code, jobs.c.address)
    .select_from(
        policies.join(quotes, quotes.c.id == policies.c.quote).join(jobs, jobs.c.id == quotes.c.job)
    )
    .where(
        policies.c.account_id == bindparam("account_id"),
        policies.c.environment == bindparam("environment"),
        quotes.c.contractor == bindparam("contractor"),
        policies.c.cancelled.is_(False),  # a deleted policy is cancelled too
        policies.c.expiration_date > bindparam("start"),
        policies.c.effective_date < bindparam("end"),
    ),
    [
        policies.c.id,
        policies.c.account_id,
        policies.c.environment,
        quotes.c.contractor,
        quotes.c.coverage_type,
        jobs.c.category_code,
        jobs.c.address,
    ],
)


class QuoteAlreadyBound(Exception):
    """The quote's unique constraint refused a second policy: another request bound it first."""


class PolicyRepository(Repository):
    conflict = staticmethod(lambda fields: QuoteAlreadyBound(fields["quote"]))

    records = POLICIES

    def quote_is_bound(self, quote_id: str) -> bool:
        """Whether a policy was ever issued for the quote, deleted or not."""
        query = select(policies.c.id).where(policies.c.quote == quote_id)
        return self.connection.execute(query).first() is not None

    def _with_quotes(self) -> Select:
        """The caller's policies, beside the quotes they were bound from."""
        return owned(policies, self.principal).join(quotes, quotes.c.id == policies.c.quote)

    def _in_force(self, since: int) -> Select:
        return self._with_quotes().where(
            policies.c.cancelled.is_(False), policies.c.expiration_date > since
        )

    def in_force_for_contractor(self, contractor_id: str, since: int) -> list[dict]:
        query = self._in_force(since).where(quotes.c.contractor == contractor_id)
        return [POLICIES.record(row) for row in self.connection.execute(query)]

    def live_for_contractor_job(self, contractor_id: str, job_id: str) -> list[tuple[dict, dict]]:
        """The policies bound from quotes for the contractor and job that are not cancelled,
        newest first, each with the coverage types and rating of its quote."""
        query = (
            self._with_quotes()
            .add_columns(quotes.c.coverage_type, quotes.c.quote_json)
            .where(
                quotes.c.contractor == contractor_id,
                quotes.c.job == job_id,
                policies.c.cancelled.is_(False),
            )
            .order_by(policies.c.seq.desc())
        )
        return [
            (
                POLICIES.record(row),
                {"coverage_type": row.coverage_type, "quote_json": row.quote_json},
            )
            for row in self.connection.execute(query)
        ]

    def live_for_contractor_during(self, contractor_id: str, start: int, end: int) -> list[dict]:
        """The contractor's policies that are not cancelled and whose term meets [start, end):
        each its id, with the coverage types of its quote and the category and address of its
        job. One prepared statement: every quote asks it."""
        values = {"contractor": contractor_id, "start": start, "end": end}
        return _LIVE_DURING.rows(self.connection, {**values, **owner(self.principal)})

    def page_for_contractor(self, contractor_id: str, page: PageRequest) -> list[dict]:
        """One page of the policies bound from quotes for the contractor."""
        query = self._with_quotes().where(quotes.c.contractor == contractor_id)
        return [POLICIES.record(row) for row in page_of(self.connection, policies, query, page)]

    def in_force_for_entity(self, entity_id: str, since: int) -> list[dict]:
        query = (
            self._in_force(since)
            .join(jobs, jobs.c.id == quotes.c.job)
            .where(jobs.c.entity == entity_id)
        )
        return [POLICIES.record(row) for row in self.connection.execute(query)]

    def job_has_policy(self, job_id: str) -> bool:
        query = self._with_quotes().with_only_columns(policies.c.id).where(quotes.c.job == job_id)
        return self.connection.execute(query).first() is not None

    def mark_deleted(self, policy_id: str, at: int) -> None:
        """Cancel and hide the policy; its row stays so that its quote stays bound."""
        self.connection.execute(
            POLICIES.update,
            {
                "object_id": policy_id,
                "cancelled": True,
                "deleted_at": at,
                "document": None,
                "document_status": None,
            },
        )
