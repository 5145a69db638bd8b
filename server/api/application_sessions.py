"""Application session operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import application_sessions as sessions
from server.store.unit_of_work import UnitOfWork


def list_application_sessions(
    uow: UnitOfWork, base_url: str, limit: int, starting_after=None, ending_before=None
) -> schemas.ApplicationSessionList:
    found = sessions.list_(uow, page("application_session", limit, starting_after, ending_before))
    return [show.application_session(r, uow.now, base_url, live=uow.live) for r in found]


def create_application_session(
    uow: UnitOfWork, body: schemas.ApplicationSessionCreate, base_url: str
) -> schemas.ApplicationSession:
    return show.application_session(sessions.create(uow, body), uow.now, base_url, live=uow.live)


def retrieve_application_session(
    uow: UnitOfWork, session_id: str, base_url: str
) -> schemas.ApplicationSession:
    return show.application_session(
        sessions.retrieve(uow, session_id), uow.now, base_url, live=uow.live
    )


def update_application_session(
    uow: UnitOfWork, session_id: str, body: schemas.ApplicationSessionUpdate, base_url: str
) -> schemas.ApplicationSession:
    return show.application_session(
        sessions.update(uow, session_id, body), uow.now, base_url, live=uow.live
    )
