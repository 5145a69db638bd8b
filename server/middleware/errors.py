"""Every error leaves as `{"error_code", "message"}` JSON, connexion's own included."""

from __future__ import annotations

import json
import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.types import Send

from server.contract.spec import HTTP_METHODS, path_patterns
from server.core.errors import (
    AuthenticationFailed,
    DomainError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)

logger = logging.getLogger("server.errors")

DOMAIN_STATUS = {
    InvalidRequest: 400,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    NotFound: 404,
}


class RequestRefused(Exception):
    """A refusal by a request-wide mechanism (rate limit, idempotency, body size), before or
    instead of the operation."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.param, self.headers = param, headers or {}


# Codes for errors that connexion or starlette raise, by status.
STATUS_CODES = {
    400: "invalid_input",
    401: "invalid_api_key",
    403: "insufficient_permissions",
    404: "resource_not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limit",
    500: "general",
    501: "not_implemented",
}


def _body(
    code: str,
    message: str,
    param: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, object]:
    body: dict[str, object] = {"error_code": code, "message": message}
    if param:
        body["param"] = param
    if errors:
        body["errors"] = errors
    return body


def error_body(error: DomainError) -> dict[str, object]:
    return _body(error.code, error.message, error.param, getattr(error, "errors", None))


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(_body(code, message, param, errors)),
        headers=headers or {},
    )


async def send_refusal(send: Send, refused: RequestRefused) -> None:
    """Answer with a refusal straight from a middleware, outside connexion's error handling."""
    body = json.dumps(_body(refused.code, refused.message, refused.param)).encode()
    headers = [(name.lower().encode(), value.encode()) for name, value in refused.headers.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400


def domain_error(_request, error: DomainError) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status_of(error),
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(error_body(error)),
    )


def refused(_request, error: RequestRefused) -> ConnexionResponse:
    return error_response(
        error.status, error.code, error.message, param=error.param, headers=error.headers
    )


def problem(_request, error: ProblemException) -> ConnexionResponse:
    status = error.status
    message = str(error.detail or error.title or "")
    if status == 415:
        # A body in another media type is a malformed request, not a separate contract case.
        return error_response(400, "unsupported_media_type", message, param="Content-Type")
    if status == 401:
        message = (
            "No API key provided: send it as `Authorization: Bearer <key>`, or as the "
            "HTTP Basic username with an empty password."
        )
    if status >= 500:
        logger.error("%s: %s", type(error).__name__, message)
    return error_response(
        status,
        STATUS_CODES.get(status, "invalid_input"),
        message,
        headers=dict(error.headers or {}),
    )


class PathMethods:
    """The methods the spec documents for each path, to name them all in a 405's Allow."""

    def __init__(self, spec: dict):
        self._paths = [
            (pattern, sorted(m.upper() for m in item if m in HTTP_METHODS))
            for _template, pattern, item in path_patterns(spec)
        ]

    def allowed(self, path: str) -> list[str]:
        for pattern, methods in self._paths:
            if pattern.match(path):
                return methods
        return []


def http_exception_handler(path_methods: PathMethods):
    def http_exception(request, error: HTTPException) -> ConnexionResponse:
        status = error.status_code
        headers = dict(error.headers or {})
        if status == 404:
            message = f"Unrecognized request URL ({request.method}: {request.url.path})."
        elif status == 405:
            allowed = path_methods.allowed(request.url.path) or [
                m.strip() for m in headers.get("Allow", "").split(",") if m.strip()
            ]
            headers["Allow"] = ", ".join(allowed)
            message = (
                f"{request.method} is not allowed on {request.url.path}; "
                f"allowed: {headers['Allow']}."
            )
        else:
            message = str(error.detail)
        return error_response(
            status, STATUS_CODES.get(status, "invalid_input"), message, headers=headers
        )

    return http_exception


def unexpected_refusal(error: Exception) -> RequestRefused:
    """The 500 of an error nothing handled, logged with its traceback."""
    logger.exception("unhandled error", exc_info=error)
    return RequestRefused(500, "general", "An unexpected error occurred.")


def unexpected(_request, error: Exception) -> ConnexionResponse:
    refused = unexpected_refusal(error)
    return error_response(refused.status, refused.code, refused.message)


def install(app, spec: dict) -> None:
    app.add_error_handler(DomainError, domain_error)
    app.add_error_handler(RequestRefused, refused)
    app.add_error_handler(ProblemException, problem)
    app.add_error_handler(HTTPException, http_exception_handler(PathMethods(spec)))
    app.add_error_handler(Exception, unexpected)
