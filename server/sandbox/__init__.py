"""Sandbox tools: objects made in an account's sandbox through the domain's own rules, for
`ten99-server trigger` (triggers.py) and the documents' examples (examples.py). They work on the
database directly, as the background worker does, and never in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from server.contract.spec import load_spec
from server.core.principals import Environment, Principal
from server.core.settings import Settings
from server.core.uploads import UploadedFile
from server.domain import (
    application_sessions,
    assignments,
    contractors,
    entities,
    jobs,
    policies,
    quotes,
    uploaded_certificates,
)
from server.pdf import sample
from server.store.db import Database

T = TypeVar("T")

# The text of a certificate of insurance that meets the requirement of the contract's example
# entity (general liability at $1M and $2M, workers' compensation) until 2099.
MEETS_THE_EXAMPLE = (
    "Insured: Joe Parker",
    "General liability: each occurrence $1,000,000; aggregate $2,000,000; expires 2099-12-31",
    "Workers' compensation: statutory; expires 2099-12-31",
)


def example(schema: str, **overrides: Any) -> dict[str, Any]:
    """The contract's example of a request body, with some fields replaced."""
    return {**load_spec()["components"]["schemas"][schema]["example"], **overrides}


class Sandbox:
    """One account's sandbox. Each operation runs in a unit of work of its own, at the
    sandbox's time, or at `at` (objects made as they would have been made then)."""

    def __init__(self, database: Database, account_id: str, at: int | None = None):
        self.database = database
        self.principal = Principal(account_id, Environment.SANDBOX)
        self.at = at

    def run(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.database.unit_of_work(self.principal, at=self.at) as uow:
            return operation(uow, *args, **kwargs)

    def now(self) -> int:
        return self.run(lambda uow: uow.now)

    def earlier(self, seconds: int) -> Sandbox:
        """The same sandbox, `seconds` before its time."""
        return Sandbox(self.database, self.principal.account_id, self.now() - seconds)

    # The objects of the underwriting flow, from the contract's examples.

    def contractor(self, **fields: Any) -> dict:
        return self.run(contractors.create, example("ContractorCreate", **fields))

    def entity(self, **fields: Any) -> dict:
        return self.run(entities.create, example("EntityCreate", **fields))

    def job(self, entity_id: str, **fields: Any) -> dict:
        return self.run(jobs.create, example("JobCreate", entity=entity_id, **fields))

    def quote(self, contractor_id: str, job_id: str, **fields: Any) -> dict:
        body = example("QuoteCreate", contractor=contractor_id, job=job_id, **fields)
        return self.run(quotes.create, body)

    def underwritten(self, **quote_fields: Any) -> dict[str, dict]:
        """A contractor, an entity, a job of it, and an eligible quote for both."""
        made = {"contractor": self.contractor(years_experience=10), "entity": self.entity()}
        made["job"] = self.job(made["entity"]["id"])
        made["quote"] = self.quote(made["contractor"]["id"], made["job"]["id"], **quote_fields)
        return made

    def policy(self, quote_id: str) -> dict:
        return self.run(policies.create, {"quote": quote_id})

    def bound(self, **quote_fields: Any) -> dict[str, dict]:
        """`underwritten`, and a policy bound on the quote."""
        made = self.underwritten(**quote_fields)
        made["policy"] = self.policy(made["quote"]["id"])
        return made

    def certificate(self, contractor_id: str, *lines: str) -> dict:
        """A certificate of insurance stating `lines`, uploaded for the contractor, its review
        left to the worker."""
        file = UploadedFile(
            "certificate.pdf", uploaded_certificates.PDF_TYPE, sample.stating(*lines)
        )
        body = {"certificate": file, "contractor": contractor_id}
        # The default bound: the sandbox tools upload a few small PDFs.
        limit = Settings.model_construct().certificate_storage_bytes
        return self.run(uploaded_certificates.upload, body, storage_limit=limit)

    def session(self, quote_id: str) -> dict:
        body = example("ApplicationSessionCreate", quote=quote_id)
        return self.run(application_sessions.create, body)

    def assignment(self, contractor_id: str, job_id: str, **fields: Any) -> dict:
        body = example("AssignmentCreate", contractor=contractor_id, job=job_id, **fields)
        return self.run(assignments.create, body)

    def assigned(self) -> dict[str, dict]:
        """`bound`, and the contractor assigned to another job of the entity, bound to the
        policy."""
        made = self.bound()
        made["assigned_job"] = self.job(made["entity"]["id"], name="Night shift")
        made["assignment"] = self.assignment(made["contractor"]["id"], made["assigned_job"]["id"])
        return made
