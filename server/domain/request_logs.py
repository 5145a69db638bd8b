"""A sandbox's request log: each request its keys made, found by the `request-id` its answer
carried, with what was sent and answered. Secrets are redacted from the bodies before they are
kept (webhook signing secrets, API keys, tax identification numbers), and a body is kept up to
a bound. The log is kept KEPT_DAYS days, and at most a bounded number of requests per sandbox."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.domain import required, sandbox_only
from server.domain.terms import DAY
from server.store.unit_of_work import UnitOfWork

WHAT = "Request logs"
KEPT_DAYS = 7
KEPT_SECONDS = KEPT_DAYS * DAY
MAX_BODY_CHARACTERS = 16 * 1024
REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"secret", "previous_secret", "tax_identification"})
_SECRET_VALUES = re.compile(r"whsec_[A-Za-z0-9+/=]+|t9s?k_(?:test|live)_[A-Za-z0-9]+")
_SECRET_FORM_FIELDS = re.compile(
    r"((?:^|&)(?:%s)=)[^&]*" % "|".join(sorted(SECRET_FIELDS))  # noqa: UP031
)
# In JSON that does not parse (a body cut short): a secret field's string, even one cut in its
# middle, or its other value but null.
_SECRET_JSON_FIELDS = re.compile(
    r'("(?:%s)"\s*:\s*)(?:"(?:[^"\\]|\\.)*(?:"|\Z)|(?!null\b)[^\s,}\]]+)'  # noqa: UP031
    % "|".join(sorted(SECRET_FIELDS))
)
# A body with none of these holds no secret, and is kept as it is, unparsed.
_MAY_HOLD_SECRETS = ("whsec_", "t9k_", "t9sk_", "secret", "tax_identification")


class Entry(NamedTuple):
    """A request and its answer as they passed (server/middleware/request_log.py): bodies as
    sent, up to a bound; nothing redacted yet."""

    request_id: str
    principal: Principal
    created: int
    method: str
    path: str
    operation_id: str | None
    status: int
    duration_us: int
    idempotency_key: str | None
    replayed: bool
    fault: str | None
    request_type: str
    request_body: bytes
    response_type: str
    response_body: bytes


def kept(entry: Entry) -> dict[str, Any]:
    """The request as the log keeps it, each field as its API object shows it."""
    return {
        "id": entry.request_id,
        "created": entry.created,
        "method": entry.method,
        "path": entry.path[:2048],
        "operation_id": entry.operation_id,
        "status": entry.status,
        "duration_us": entry.duration_us,
        "error_code": error_code(entry.status, entry.response_body),
        "idempotency_key": entry.idempotency_key,
        "idempotent_replayed": entry.replayed,
        "test_fault": entry.fault,
        "request_body": shown_body(entry.request_body, entry.request_type),
        "response_body": shown_body(entry.response_body, entry.response_type),
    }


def shown_body(raw: bytes, media_type: str) -> str | None:
    """A request's or response's body as the log keeps it."""
    if not raw:
        return None
    if media_type.startswith("multipart/"):
        return f"[a multipart body of {len(raw)} bytes, not kept]"
    text = raw.decode("utf-8", "replace")
    # A secret past the cut is not kept: only what is kept is looked at, unless it holds one.
    shown = text[:MAX_BODY_CHARACTERS]
    if any(marker in shown for marker in _MAY_HOLD_SECRETS):
        text = _redacted(raw)
    if len(text) > MAX_BODY_CHARACTERS:
        return f"{text[:MAX_BODY_CHARACTERS]}… [cut: {len(text)} characters in all]"
    return text


def _redacted(raw: bytes) -> str:
    try:
        return orjson.dumps(_redacted_value(orjson.loads(raw))).decode()
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace")
        text = _SECRET_JSON_FIELDS.sub(rf'\1"{REDACTED}"', text)
        return _SECRET_VALUES.sub(REDACTED, _SECRET_FORM_FIELDS.sub(rf"\1{REDACTED}", text))


def _redacted_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if key in SECRET_FIELDS and item else _redacted_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted_value(item) for item in value]
    if isinstance(value, str):
        return _SECRET_VALUES.sub(REDACTED, value)
    return value


def error_code(status: int, body: bytes) -> str | None:
    """The `error_code` of an error answer."""
    if status < 400:
        return None
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = found.get("error_code") if isinstance(found, dict) else None
    return code if isinstance(code, str) else None


def list_(uow: UnitOfWork, page: PageRequest, filters: dict[str, Any]) -> list[dict[str, Any]]:
    sandbox_only(uow.live, WHAT)
    created_gte, created_lte = filters.pop("created_gte", None), filters.pop("created_lte", None)
    return uow.request_logs.page_where(page, filters, created_gte, created_lte)


def retrieve(uow: UnitOfWork, request_id: str) -> dict[str, Any]:
    sandbox_only(uow.live, WHAT)
    return required(uow.request_logs.get(request_id), "request", request_id, param="request_id")
