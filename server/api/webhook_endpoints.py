"""Webhook endpoint operations, and the deliveries to an endpoint."""

from __future__ import annotations

from server import views
from server.api import deleted, page
from server.domain import webhooks
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def list_webhook_endpoints(
    database: Database,
    principal: Principal,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = webhooks.list_(database, principal, page(limit, starting_after, ending_before))
    return [views.webhook_endpoint(r) for r in found]


def create_webhook_endpoint(database: Database, principal: Principal, body: dict):
    return views.webhook_endpoint_with_secret(webhooks.create(database, principal, body)), 201


def retrieve_webhook_endpoint(database: Database, principal: Principal, webhook_endpoint_id: str):
    return views.webhook_endpoint(webhooks.retrieve(database, principal, webhook_endpoint_id))


def update_webhook_endpoint(
    database: Database, principal: Principal, webhook_endpoint_id: str, body: dict
):
    updated = webhooks.update(database, principal, webhook_endpoint_id, body)
    return views.webhook_endpoint(updated)


def delete_webhook_endpoint(database: Database, principal: Principal, webhook_endpoint_id: str):
    deleted_at = webhooks.delete(database, principal, webhook_endpoint_id)
    return deleted(webhook_endpoint_id, "webhook_endpoint", deleted_at)


def list_webhook_deliveries(
    database: Database,
    principal: Principal,
    webhook_endpoint_id: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
    event: str | None = None,
):
    found = webhooks.deliveries(
        database,
        principal,
        webhook_endpoint_id,
        page(limit, starting_after, ending_before),
        event,
    )
    return [views.webhook_delivery(r) for r in found]
