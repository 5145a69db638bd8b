"""Webhook endpoint operations, and the deliveries to an endpoint."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.core.settings import Settings
from server.domain import webhooks
from server.store.unit_of_work import UnitOfWork


def list_webhook_endpoints(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.WebhookEndpointList:
    found = webhooks.list_(uow, page("webhook_endpoint", limit, starting_after, ending_before))
    return [show.webhook_endpoint(r, live=uow.live) for r in found]


def create_webhook_endpoint(
    uow: UnitOfWork, body: schemas.WebhookEndpointCreate, settings: Settings
) -> schemas.WebhookEndpointWithSecret:
    created = webhooks.create(uow, body, targets=settings.webhook_targets)
    return show.webhook_endpoint_with_secret(created, live=uow.live)


def retrieve_webhook_endpoint(uow: UnitOfWork, webhook_endpoint_id: str) -> schemas.WebhookEndpoint:
    return show.webhook_endpoint(webhooks.retrieve(uow, webhook_endpoint_id), live=uow.live)


def update_webhook_endpoint(
    uow: UnitOfWork,
    webhook_endpoint_id: str,
    body: schemas.WebhookEndpointUpdate,
    settings: Settings,
) -> schemas.WebhookEndpoint:
    updated = webhooks.update(uow, webhook_endpoint_id, body, targets=settings.webhook_targets)
    return show.webhook_endpoint(updated, live=uow.live)


def rotate_webhook_endpoint_secret(
    uow: UnitOfWork, webhook_endpoint_id: str
) -> schemas.WebhookEndpointWithSecret:
    return show.webhook_endpoint_with_secret(
        webhooks.rotate_secret(uow, webhook_endpoint_id), live=uow.live
    )


def delete_webhook_endpoint(uow: UnitOfWork, webhook_endpoint_id: str) -> show.Deleted:
    deleted_at = webhooks.delete(uow, webhook_endpoint_id)
    return show.deletion(webhook_endpoint_id, "webhook_endpoint", deleted_at, live=uow.live)


def retry_webhook_delivery(
    uow: UnitOfWork, webhook_endpoint_id: str, webhook_delivery_id: str
) -> schemas.WebhookDelivery:
    delivery = webhooks.retry_delivery(uow, webhook_endpoint_id, webhook_delivery_id)
    return show.webhook_delivery(delivery, live=uow.live)


def retry_failed_webhook_deliveries(
    uow: UnitOfWork, webhook_endpoint_id: str
) -> schemas.WebhookDeliveryList:
    return [
        show.webhook_delivery(d, live=uow.live)
        for d in webhooks.retry_failed(uow, webhook_endpoint_id)
    ]


def list_webhook_deliveries(
    uow: UnitOfWork,
    webhook_endpoint_id: str,
    limit: int,
    starting_after=None,
    ending_before=None,
    event=None,
) -> schemas.WebhookDeliveryList:
    found = webhooks.deliveries(
        uow,
        webhook_endpoint_id,
        page("webhook delivery", limit, starting_after, ending_before),
        event,
    )
    return [show.webhook_delivery(r, live=uow.live) for r in found]
