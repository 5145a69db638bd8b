"""Test clock operations (sandbox only)."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import clocks
from server.store.unit_of_work import UnitOfWork


def list_test_clocks(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.TestClockList:
    found = clocks.list_(uow, page("test_clock", limit, starting_after, ending_before))
    return [show.test_clock(r, live=uow.live) for r in found]


def create_test_clock(uow: UnitOfWork, body: schemas.TestClockCreate) -> schemas.TestClock:
    return show.test_clock(clocks.create(uow, body), live=uow.live)


def retrieve_test_clock(uow: UnitOfWork, test_clock_id: str) -> schemas.TestClock:
    return show.test_clock(clocks.retrieve(uow, test_clock_id), live=uow.live)


def advance_test_clock(
    uow: UnitOfWork, test_clock_id: str, body: schemas.TestClockAdvance
) -> schemas.TestClock:
    return show.test_clock(clocks.advance(uow, test_clock_id, body), live=uow.live)


def delete_test_clock(uow: UnitOfWork, test_clock_id: str) -> show.Deleted:
    deleted_at = clocks.delete(uow, test_clock_id)
    return show.deletion(test_clock_id, "test_clock", deleted_at, live=uow.live)
