"""Policy operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import policies
from server.store.unit_of_work import UnitOfWork


def list_policies(
    uow: UnitOfWork, base_url: str, limit: int, starting_after=None, ending_before=None
) -> schemas.PolicyList:
    found = policies.list_(uow, page("policy", limit, starting_after, ending_before))
    return [show.policy(r, uow.now, base_url, live=uow.live) for r in found]


def list_contractor_policies(
    uow: UnitOfWork,
    contractor_id: str,
    base_url: str,
    limit: int,
    starting_after=None,
    ending_before=None,
) -> schemas.PolicyList:
    page_request = page("policy", limit, starting_after, ending_before)
    found = policies.list_for_contractor(uow, contractor_id, page_request)
    return [show.policy(r, uow.now, base_url, live=uow.live) for r in found]


def create_policy(uow: UnitOfWork, body: schemas.PolicyCreate, base_url: str) -> schemas.Policy:
    return show.policy(policies.create(uow, body), uow.now, base_url, live=uow.live)


def retrieve_policy(uow: UnitOfWork, policy_id: str, base_url: str) -> schemas.Policy:
    return show.policy(policies.retrieve(uow, policy_id), uow.now, base_url, live=uow.live)


def update_policy(
    uow: UnitOfWork, policy_id: str, body: schemas.PolicyUpdate, base_url: str
) -> schemas.Policy:
    return show.policy(policies.update(uow, policy_id, body), uow.now, base_url, live=uow.live)


def delete_policy(uow: UnitOfWork, policy_id: str) -> show.Deleted:
    return show.deletion(policy_id, "policy", policies.delete(uow, policy_id), live=uow.live)
