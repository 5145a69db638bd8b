"""Policy operations."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import policies
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict, base_url: str) -> dict:
    return views.policy(record, base_url)


def list_policies(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = policies.list_(database, principal, page(limit, starting_after, ending_before))
    return [_public(r, base_url) for r in found]


def create_policy(database: Database, principal: Principal, body: dict, base_url: str):
    return _public(policies.create(database, principal, body), base_url), 201


def retrieve_policy(database: Database, principal: Principal, policy_id: str, base_url: str):
    return _public(policies.retrieve(database, principal, policy_id), base_url)


def update_policy(
    database: Database, principal: Principal, policy_id: str, body: dict, base_url: str
):
    return _public(policies.update(database, principal, policy_id, body), base_url)


def delete_policy(database: Database, principal: Principal, policy_id: str):
    return deleted(policy_id, "policy", policies.delete(database, principal, policy_id))
