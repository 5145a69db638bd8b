"""Policy operations."""

from __future__ import annotations

from server import models, views
from server.api import database, deleted, page, parse, principal, public_base
from server.domain import policies
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return views.policy(record, public_base())


def list_policies(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = policies.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_policy(body: dict, token_info: dict):
    fields = parse(models.PolicyCreate, body)
    return _public(policies.create(database(), principal(token_info), fields)), 201


def retrieve_policy(policy_id: str, token_info: dict):
    return _public(policies.retrieve(database(), principal(token_info), policy_id))


def update_policy(policy_id: str, body: dict, token_info: dict):
    changes = parse(models.PolicyUpdate, body)
    return _public(policies.update(database(), principal(token_info), policy_id, changes))


def delete_policy(policy_id: str, token_info: dict):
    deleted_at = policies.delete(database(), principal(token_info), policy_id)
    return deleted(models.DeletedPolicy, policy_id, "policy", deleted_at)
