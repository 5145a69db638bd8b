"""The paths of what the server serves without an API key: a link is its own credential."""

from __future__ import annotations

import re

FILES = "/files/{token}"
APPLICATION_PAGE = "/apply/{session_id}"


def file_path(token: str) -> str:
    """Where a generated file (a policy document, a certificate) is served."""
    return FILES.format(token=token)


def application_path(session_id: str) -> str:
    """Where the hosted application page of a session is served."""
    return APPLICATION_PAGE.format(session_id=session_id)


# What a capability in a path can look like (a file token is URL-safe base64, a session id base62
# after its prefix). Anything else, a NUL or an undecodable byte among others, names nothing: it
# is answered 404 without reaching the database, which could refuse it with an error of its own.
_FILE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SESSION_ID = re.compile(r"ias_[A-Za-z0-9]{1,64}")


def may_be_file_token(token: str) -> bool:
    return _FILE_TOKEN.fullmatch(token) is not None


def may_be_session_id(session_id: str) -> bool:
    return _SESSION_ID.fullmatch(session_id) is not None
