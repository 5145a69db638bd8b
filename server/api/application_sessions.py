"""Application session operations."""

from __future__ import annotations

from server import views
from server.api import page
from server.domain import application_sessions
from server.domain.accounts import Principal
from server.domain.pagination import DEFAULT_LIMIT
from server.store.db import Database


def _public(record: dict, base_url: str) -> dict:
    return views.application_session(record, base_url)


def list_application_sessions(
    database: Database,
    principal: Principal,
    base_url: str,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = application_sessions.list_(
        database, principal, page(limit, starting_after, ending_before)
    )
    return [_public(r, base_url) for r in found]


def create_application_session(database: Database, principal: Principal, body: dict, base_url: str):
    return _public(application_sessions.create(database, principal, body), base_url), 201


def retrieve_application_session(
    database: Database, principal: Principal, session_id: str, base_url: str
):
    return _public(application_sessions.retrieve(database, principal, session_id), base_url)
