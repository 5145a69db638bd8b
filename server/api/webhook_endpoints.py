"""Webhook endpoint operations, and the deliveries to an endpoint."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.config import Settings
from server.domain import webhooks
from server.store.unit_of_work import UnitOfWork


def list_webhook_endpoints(uow: UnitOfWork, limit: int, starting_after=None, ending_before=None):
    found = webhooks.list_(uow, page("webhook_endpoint", limit, starting_after, ending_before))
    return [show.webhook_endpoint(r) for r in found]


def create_webhook_endpoint(uow: UnitOfWork, body: dict, settings: Settings):
    created = webhooks.create(uow, body, targets=settings.webhook_targets)
    return show.webhook_endpoint_with_secret(created)


def retrieve_webhook_endpoint(uow: UnitOfWork, webhook_endpoint_id: str):
    return show.webhook_endpoint(webhooks.retrieve(uow, webhook_endpoint_id))


def update_webhook_endpoint(
    uow: UnitOfWork, webhook_endpoint_id: str, body: dict, settings: Settings
):
    updated = webhooks.update(uow, webhook_endpoint_id, body, targets=settings.webhook_targets)
    return show.webhook_endpoint(updated)


def rotate_webhook_endpoint_secret(uow: UnitOfWork, webhook_endpoint_id: str):
    return show.webhook_endpoint_with_secret(webhooks.rotate_secret(uow, webhook_endpoint_id))


def delete_webhook_endpoint(uow: UnitOfWork, webhook_endpoint_id: str):
    deleted_at = webhooks.delete(uow, webhook_endpoint_id)
    return show.deletion(webhook_endpoint_id, "webhook_endpoint", deleted_at)


def retry_webhook_delivery(uow: UnitOfWork, webhook_endpoint_id: str, webhook_delivery_id: str):
    delivery = webhooks.retry_delivery(uow, webhook_endpoint_id, webhook_delivery_id)
    return show.webhook_delivery(delivery)


def retry_failed_webhook_deliveries(uow: UnitOfWork, webhook_endpoint_id: str):
    return [show.webhook_delivery(d) for d in webhooks.retry_failed(uow, webhook_endpoint_id)]


def list_webhook_deliveries(
    uow: UnitOfWork,
    webhook_endpoint_id: str,
    limit: int,
    starting_after=None,
    ending_before=None,
    event=None,
):
    found = webhooks.deliveries(
        uow,
        webhook_endpoint_id,
        page("webhook delivery", limit, starting_after, ending_before),
        event,
    )
    return [show.webhook_delivery(r) for r in found]
