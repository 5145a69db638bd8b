"""The hosted application page, `/apply/<session id>`: a plain HTML form served without an API
key (the session id is the credential). Accept binds the policy and redirects to the
session's `success_url`; Decline redirects to its `cancel_url`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.core.errors import DomainError, NotFound
from server.core.links import APPLICATION_PAGE, may_be_session_id
from server.domain import application_sessions
from server.pdf.layout import format_date, format_money
from server.store.db import Database

PAGE = APPLICATION_PAGE
# A refused session: gone for good (expired), or already done.
REFUSAL_STATUS = {
    "session_expired": 410,
    "application_already_complete": 409,
    "application_in_review": 409,
}
# The page carries its credential in its URL: keep it out of caches, referrers and frames.
HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self' https: http:; frame-ancestors 'none'",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_templates.globals.update(
    date=format_date,
    datetime=lambda s: datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%d %H:%M"),
    rate=lambda cents: f"{format_money(cents)} per $100 earned",
)


def _page(status: int, title: str, **context) -> HTMLResponse:
    context = {"application": None, "back_url": None, **context}
    html = _templates.get_template("application.html").render(title=title, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _not_found() -> HTMLResponse:
    return _page(
        404,
        "Application not found",
        code="resource_not_found",
        message="This application link is not valid. Ask for a new one.",
    )


def _back_url(application: application_sessions.Application) -> str | None:
    session = application.session
    if application.refusal and application.refusal.code == "application_already_complete":
        return session["success_url"]
    return session["cancel_url"]


def _for_session(database: Database, session_id: str, work: Callable, *, write: bool):
    """`work(uow, session)` in a unit of work of the session's owner, the session's row locked
    when it writes; NotFound when there is no such session."""
    if not may_be_session_id(session_id):
        raise NotFound("application session", session_id)
    with database.server_work(write=False) as server:
        owner = server.session_owner(session_id)
    if owner is None:
        raise NotFound("application session", session_id)
    with database.unit_of_work(owner, write=write) as uow:
        sessions = uow.application_sessions
        record = sessions.locked(session_id) if write else sessions.get(session_id)
        if record is None:
            raise NotFound("application session", session_id)
        return work(uow, record)


async def _read(database: Database, session_id: str) -> dict:
    """The session as it is now; NotFound when there is no such session."""
    return await database.run(
        lambda: _for_session(database, session_id, lambda _uow, record: record, write=False)
    )


async def show(
    database: Database, request: Request, refused: DomainError | None = None
) -> Response:
    session_id = request.path_params["session_id"]
    try:
        application = await database.run(
            lambda: _for_session(
                database, session_id, application_sessions.application, write=False
            )
        )
    except NotFound:
        return _not_found()
    if application.session["completed_at"] is not None:  # a later visit: the coverage is bound
        return _complete(application.session)
    if refused is None and application_sessions.unannounced(application):
        await database.run(
            lambda: _for_session(database, session_id, application_sessions.opened, write=True)
        )
    if refused is not None:  # an acceptance just refused says why, whatever the page would
        application = replace(application, refusal=refused)
    refusal = application.refusal
    status = REFUSAL_STATUS.get(refusal.code, 400) if refusal else 200
    title = "Your insurance application" if refusal is None else "This application can't go on"
    return _page(status, title, application=application, back_url=_back_url(application))


async def accept(database: Database, request: Request) -> Response:
    session_id = request.path_params["session_id"]
    form = await request.form()
    claims_reported = form.get("claims") == "yes"

    def accept_it(uow, record):
        return application_sessions.accept(uow, record, claims_reported=claims_reported)

    try:
        session = await database.run(
            lambda: _for_session(database, session_id, accept_it, write=True)
        )
    except NotFound:
        return _not_found()
    except DomainError as refused:
        # A second Accept (a double click) finds the session completed by the first: the
        # success it was. Otherwise (expired, no longer eligible, its period over) the page
        # says why.
        if refused.code in ("application_already_complete", "policy_already_exists"):
            session = await _read(database, session_id)
            if session["completed_at"] is not None:
                return _accepted(session)
        return await show(database, request, refused)
    return _accepted(session)


def _accepted(session: dict) -> Response:
    """The answer to Accept: back to the platform's success_url, or the page of the outcome;
    the page of the review, for an application sent to manual review."""
    if application_sessions.in_review(session):
        message = (
            "Thank you. Because of the claims you reported, your application is in manual "
            "review: you will hear of its outcome within 24 hours. You can close this page."
        )
        return _page(200, "Application in review", code="in_review", message=message)
    if session["success_url"]:
        return RedirectResponse(session["success_url"], status_code=303, headers=HEADERS)
    return _complete(session)


def _complete(session: dict) -> HTMLResponse:
    message = f"Your coverage is bound: policy {session['policy']}. You can close this page."
    return _page(
        200, "Coverage bound", code="complete", message=message, back_url=session["success_url"]
    )


async def decline(database: Database, request: Request) -> Response:
    """The contractor leaves without binding; the session stays open until it expires."""
    session_id = request.path_params["session_id"]
    try:
        session = await _read(database, session_id)
    except NotFound:
        return _not_found()
    if session["cancel_url"]:
        return RedirectResponse(session["cancel_url"], status_code=303, headers=HEADERS)
    return _page(
        200,
        "Application declined",
        code="declined",
        message="You declined this coverage. You can close this page.",
    )


def add_routes(app, database: Database) -> None:
    for path, name, page, method in (
        (PAGE, "application_page", show, "GET"),
        (PAGE + "/accept", "application_accept", accept, "POST"),
        (PAGE + "/decline", "application_decline", decline, "POST"),
    ):
        app.add_url_rule(path, name, _bound(page, database), methods=[method])


def _bound(page, database: Database):
    """A Starlette endpoint (a plain function of the request) for a page of the database."""

    async def endpoint(request: Request) -> Response:
        return await page(database, request)

    return endpoint
