"""Generated files (policy documents), fetched by their unguessable token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal
from server.domain.clock import now
from server.store.tables import documents


@dataclass(frozen=True)
class Document:
    token: str
    filename: str
    content_type: str
    content: bytes


def put(
    session: Session, principal: Principal, filename: str, content_type: str, content: bytes
) -> str:
    """Store a file; returns its token (256 random bits, URL-safe)."""
    token = secrets.token_urlsafe(32)
    session.execute(
        insert(documents).values(
            token=token,
            account_id=principal.account_id,
            environment=principal.environment.value,
            filename=filename,
            content_type=content_type,
            content=content,
            created=now(),
        )
    )
    return token


def get(session: Session, token: str) -> Document | None:
    row = session.execute(select(documents).where(documents.c.token == token)).first()
    if row is None:
        return None
    return Document(row.token, row.filename, row.content_type, row.content)


def drop(session: Session, token: str | None) -> None:
    if token is not None:
        session.execute(delete(documents).where(documents.c.token == token))
