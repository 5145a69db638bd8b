"""Generated files (policy documents, certificates), fetched by their unguessable token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from server.core.principals import Principal
from server.store.tables import documents


@dataclass(frozen=True)
class Document:
    token: str
    filename: str
    content_type: str
    content: bytes


class Documents:
    """The files of one caller."""

    def __init__(self, connection: Connection, principal: Principal):
        self.connection, self.principal = connection, principal

    def put(self, filename: str, content_type: str, content: bytes, at: int) -> str:
        """Store a file; returns its token (256 random bits, URL-safe)."""
        token = secrets.token_urlsafe(32)
        self.connection.execute(
            insert(documents).values(
                token=token,
                account_id=self.principal.account_id,
                environment=self.principal.environment.value,
                filename=filename,
                content_type=content_type,
                content=content,
                created=at,
            )
        )
        return token

    def content(self, token: str) -> bytes:
        """The bytes of one of the caller's files; empty when it is gone."""
        query = select(documents.c.content).where(
            documents.c.token == token,
            documents.c.account_id == self.principal.account_id,
            documents.c.environment == self.principal.environment.value,
        )
        return self.connection.execute(query).scalar_one_or_none() or b""

    def drop(self, token: str | None) -> None:
        if token is not None:
            self.connection.execute(delete(documents).where(documents.c.token == token))


def fetch(connection: Connection, token: str) -> Document | None:
    """A file by its token, whoever owns it: the token is the credential."""
    row = connection.execute(select(documents).where(documents.c.token == token)).first()
    if row is None:
        return None
    return Document(row.token, row.filename, row.content_type, row.content)
