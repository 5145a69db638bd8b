"""The paths of what the server serves without an API key: a link is its own credential."""

from __future__ import annotations

FILES = "/files/{token}"
APPLICATION_PAGE = "/apply/{session_id}"


def file_path(token: str) -> str:
    """Where a generated file (a policy document, a certificate) is served."""
    return FILES.format(token=token)


def application_path(session_id: str) -> str:
    """Where the hosted application page of a session is served."""
    return APPLICATION_PAGE.format(session_id=session_id)
