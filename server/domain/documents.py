"""Generated files, fetched by the token their link carries."""

from __future__ import annotations

from server.domain.errors import NotFound
from server.store import documents
from server.store.db import Database


def file_path(token: str) -> str:
    """Where a generated file is served, without an API key: the token is the credential."""
    return f"/files/{token}"


def fetch(db: Database, token: str) -> documents.Document:
    with db.transaction() as session:
        document = documents.get(session, token)
    if document is None:
        raise NotFound("file", token)
    return document
