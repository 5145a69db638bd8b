"""Webhook endpoint operations, and the deliveries to an endpoint."""

from __future__ import annotations

from server import models, views
from server.api import database, deleted, page, parse, principal
from server.domain import webhooks
from server.domain.pagination import DEFAULT_LIMIT


def list_webhook_endpoints(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = webhooks.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [views.webhook_endpoint(r) for r in found]


def create_webhook_endpoint(body: dict, token_info: dict):
    fields = parse(models.WebhookEndpointCreate, body)
    created = webhooks.create(database(), principal(token_info), fields)
    return models.WebhookEndpointWithSecret.model_validate(created).model_dump(mode="json"), 201


def retrieve_webhook_endpoint(webhook_endpoint_id: str, token_info: dict):
    found = webhooks.retrieve(database(), principal(token_info), webhook_endpoint_id)
    return views.webhook_endpoint(found)


def update_webhook_endpoint(webhook_endpoint_id: str, body: dict, token_info: dict):
    changes = parse(models.WebhookEndpointUpdate, body)
    updated = webhooks.update(database(), principal(token_info), webhook_endpoint_id, changes)
    return views.webhook_endpoint(updated)


def delete_webhook_endpoint(webhook_endpoint_id: str, token_info: dict):
    deleted_at = webhooks.delete(database(), principal(token_info), webhook_endpoint_id)
    return deleted(
        models.DeletedWebhookEndpoint, webhook_endpoint_id, "webhook_endpoint", deleted_at
    )


def list_webhook_deliveries(
    webhook_endpoint_id: str,
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
    event: str | None = None,
):
    found = webhooks.deliveries(
        database(),
        principal(token_info),
        webhook_endpoint_id,
        page(limit, starting_after, ending_before),
        event,
    )
    return [views.webhook_delivery(r) for r in found]
