"""Errors any layer raises; server/middleware/errors.py maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can act on, with a stable snake_case code."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidRequest(DomainError):
    """The request is malformed or breaks a rule; `errors` lists each bad field."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        errors: list[dict[str, str]] | None = None,
    ):
        super().__init__(message, code=code, param=param)
        self.errors = errors or []


class NotFound(DomainError):
    code = "resource_not_found"

    def __init__(
        self, kind: str, object_id: str, *, param: str | None = None, code: str | None = None
    ):
        super().__init__(f"No such {kind}: {object_id}", param=param, code=code)


class PermissionDenied(DomainError):
    """The key is valid but may not do this (a production key and a sandbox tool, say)."""

    code = "insufficient_permissions"


class AuthenticationFailed(DomainError):
    code = "invalid_api_key"
