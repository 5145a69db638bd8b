"""Quote operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import quotes
from server.store.unit_of_work import UnitOfWork


def list_quotes(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.QuoteList:
    return [
        show.quote(r, live=uow.live)
        for r in quotes.list_(uow, page("quote", limit, starting_after, ending_before))
    ]


def create_quote(uow: UnitOfWork, body: schemas.QuoteCreate) -> schemas.Quote:
    return show.quote(quotes.create(uow, body), live=uow.live)


def retrieve_quote(uow: UnitOfWork, quote_id: str) -> schemas.Quote:
    return show.quote(quotes.retrieve(uow, quote_id), live=uow.live)


def update_quote(uow: UnitOfWork, quote_id: str, body: schemas.QuoteUpdate) -> schemas.Quote:
    return show.quote(quotes.update(uow, quote_id, body), live=uow.live)
