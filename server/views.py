"""The API's JSON for the objects that events carry, from what the domain presents. Handlers
use it with the base URL of the request, events with the server's public base URL (or none,
for server paths), so an object reads the same in a response, an event and a delivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server import hosted, models
from server.domain import events
from server.domain.documents import file_path


def contractor(record: dict, base: str) -> dict:
    return models.Contractor.model_validate(record).model_dump(mode="json")


def quote(record: dict, base: str) -> dict:
    # exclude_unset: only the quoted coverage types have a rate (`gl_net_rate`, ...).
    return models.Quote.model_validate(record).model_dump(mode="json", exclude_unset=True)


def policy(record: dict, base: str) -> dict:
    token = record["document"]
    pdf_url = None if token is None else base + file_path(token)
    return models.Policy.model_validate({**record, "pdf_url": pdf_url}).model_dump(mode="json")


def assignment(record: dict, base: str) -> dict:
    if record["bind"]:
        tokens = record["certificates"]
        record = {
            **record,
            "certificates": {f"{key}_coi_pdf_url": file_path(t) for key, t in tokens.items()},
        }
    # exclude_unset: a bound assignment has no rating fields, an unbound one no certificates.
    return models.Assignment.model_validate(record).model_dump(mode="json", exclude_unset=True)


def application_session(record: dict, base: str) -> dict:
    url = base + hosted.PAGE.format(session_id=record["id"])
    return models.ApplicationSession.model_validate({**record, "url": url}).model_dump(mode="json")


def deletion(record: dict, base: str) -> dict:
    return {name: record[name] for name in ("id", "object", "deleted", "deleted_at")}


_BY_KIND: dict[str, Callable[[dict, str], dict]] = {
    events.CONTRACTOR: contractor,
    events.QUOTE: quote,
    events.APPLICATION: application_session,
    events.POLICY: policy,
    events.ASSIGNMENT: assignment,
    events.DELETED: deletion,
}


def event(record: dict[str, Any], base: str) -> dict:
    obj = _BY_KIND[record["object_kind"]](record["data"], base)
    return {
        "id": record["id"],
        "object": "event",
        "type": record["type"],
        "created": record["created"],
        "data": {"object": obj},
    }


def entity(record: dict) -> dict:
    return models.Entity.model_validate(record).model_dump(mode="json")


def job(record: dict) -> dict:
    # exclude_unset: a job address has only the parts given (line1 may be absent, not null).
    return models.Job.model_validate(record).model_dump(mode="json", exclude_unset=True)


def job_category(record: dict) -> dict:
    return models.JobCategory.model_validate(record).model_dump(mode="json")


def webhook_endpoint_with_secret(record: dict) -> dict:
    return models.WebhookEndpointWithSecret.model_validate(record).model_dump(mode="json")


def webhook_endpoint(record: dict) -> dict:
    return models.WebhookEndpoint.model_validate(record).model_dump(mode="json")


def webhook_delivery(record: dict) -> dict:
    return models.WebhookDelivery.model_validate(
        {**record, "webhook_endpoint": record["endpoint_id"], "event": record["event_id"]}
    ).model_dump(mode="json")
