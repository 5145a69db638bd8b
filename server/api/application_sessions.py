"""Application session operations."""

from __future__ import annotations

from server import models, views
from server.api import database, page, parse, principal, public_base
from server.domain import application_sessions
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return views.application_session(record, public_base())


def list_application_sessions(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = application_sessions.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_application_session(body: dict, token_info: dict):
    fields = parse(models.ApplicationSessionCreate, body)
    return _public(application_sessions.create(database(), principal(token_info), fields)), 201


def retrieve_application_session(session_id: str, token_info: dict):
    return _public(application_sessions.retrieve(database(), principal(token_info), session_id))
