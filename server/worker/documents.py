"""Policy documents: rendered when a policy is issued or changes, and again when it expires
(server/worker/expiries.py), for its status and dates as they are then. The previous document's
URL stops working."""

from __future__ import annotations

from server.core.principals import Environment, Principal
from server.domain import policies
from server.pdf.policy import Coverage, PolicyDocument, render_policy
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork
from server.worker.registry import Context, Record, Stale, task_kind

# What the document shows of a policy; a change to any of them makes it stale.
_SHOWN = ("cancelled", "cancelled_at", "effective_date", "expiration_date")


@task_kind(policies.ISSUE_DOCUMENT)
def issue(context: Context, task: ClaimedTask) -> Record | None:
    return _issue(context, task.principal, task.subject)


def _issue(context: Context, principal: Principal, policy_id: str) -> Record | None:
    with context.database.unit_of_work(principal, write=False) as uow:
        policy = uow.policies.get(policy_id)
        issued = uow.now
    if policy is None:  # deleted since
        return None
    status = policies.status_of(policy, issued)
    specimen = principal.environment == Environment.SANDBOX
    content = render_policy(_document(policy, status, issued, specimen))

    def record(uow: UnitOfWork) -> None:
        current = uow.policies.get(policy_id)
        if current is None:
            return
        if any(current[name] != policy[name] for name in _SHOWN):
            raise Stale(f"policy {policy_id} changed while its document rendered")
        filename = f"policy-{policy_id}.pdf"
        token = uow.documents.put(filename, "application/pdf", content, uow.now)
        uow.documents.drop(current["document"])
        uow.policies.update(policy_id, {"document": token, "document_status": status})

    return record


def _document(policy: dict, status: str, issued: int, specimen: bool) -> PolicyDocument:
    facts = policy["document_facts"]
    return PolicyDocument(
        policy_number=policy["id"],
        status=status,
        insured_name=facts["insured_name"],
        insured_address=facts["insured_address"],
        entity_name=facts["entity_name"],
        job_name=facts["job_name"],
        job_category=facts["job_category"],
        coverages=[Coverage(**coverage) for coverage in facts["coverages"]],
        net_rate=facts["net_rate"],
        effective_date=policy["effective_date"],
        expiration_date=policy["expiration_date"],
        issued=issued,
        specimen=specimen,
        cancelled_at=policy["cancelled_at"],
        cancellation_reason=policy["cancellation_reason"],
    )
