"""Test clocks: a sandbox's own time. While a sandbox has one, everything in it that depends on
the time (quote dates, policy and session expiry, extensions, invoices, webhook retries) reads
the clock's `frozen_time` instead of the wall clock, and stands still until the clock is
advanced. Advancing is the background worker's (server/worker/clocks.py): it moves the
clock from one due moment to the next, announcing expiries and having the deliveries due made
at each, and the clock is `advancing` until it reaches its target."""

from __future__ import annotations

from enum import Enum
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, PermissionDenied
from server.core.pagination import PageRequest
from server.core.principals import Environment
from server.core.statuses import ADVANCING, READY
from server.domain import required
from server.domain.endings import ENDINGS
from server.domain.terms import DAY
from server.store.clocks import ClockTaken
from server.store.unit_of_work import Task, UnitOfWork

ADVANCE = "advance_test_clock"  # the task that moves a clock to its target
# How far a clock may start from the wall clock, and move in one advance: past the longest
# term and lead of a policy, so that one advance can see a policy's whole life.
MAX_OFFSET = 10 * 365 * DAY
MAX_ADVANCE = 2 * 365 * DAY


def _sandbox_only(uow: UnitOfWork) -> None:
    if uow.principal.environment is not Environment.SANDBOX:
        raise PermissionDenied(
            "Test clocks are a sandbox tool: use a sandbox key (t9k_test_...) without "
            "`Ten99Policy-Environment: production`."
        )


def create(uow: UnitOfWork, fields: schemas.TestClockCreate) -> dict[str, Any]:
    _sandbox_only(uow)
    frozen, wall = fields["frozen_time"], uow.wall()
    if abs(frozen - wall) > MAX_OFFSET:
        raise InvalidRequest(
            "frozen_time must be within ten years of the current time.", param="frozen_time"
        )
    # One clock runs the sandbox: a new one replaces the one before.
    uow.test_clocks.remove_all()
    try:
        return uow.test_clocks.add(
            {"name": fields.get("name"), "frozen_time": frozen, "status": READY}, wall
        )
    except ClockTaken:
        raise InvalidRequest(
            "Another test clock was created for this sandbox at the same moment; try again.",
            code="test_clock_conflict",
        ) from None


def retrieve(uow: UnitOfWork, clock_id: str) -> dict[str, Any]:
    _sandbox_only(uow)
    return required(uow.test_clocks.get(clock_id), "test_clock", clock_id, param="test_clock_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    _sandbox_only(uow)
    return uow.test_clocks.page(page)


def advance(uow: UnitOfWork, clock_id: str, fields: schemas.TestClockAdvance) -> dict[str, Any]:
    clock = retrieve(uow, clock_id)
    if clock["status"] == ADVANCING:
        raise InvalidRequest(
            f"The test clock is advancing to {clock['advancing_to']}; advance it again once "
            "its status is ready.",
            code="test_clock_advancing",
        )
    target, current = fields["frozen_time"], clock["frozen_time"]
    if not current <= target <= current + MAX_ADVANCE:
        raise InvalidRequest(
            f"frozen_time must not be before the clock's time ({current}), nor more than two "
            "years after it.",
            param="frozen_time",
        )
    if target == current:
        return clock  # nothing happens in no time
    advancing = uow.test_clocks.update(clock_id, {"status": ADVANCING, "advancing_to": target})
    uow.enqueue(Task(ADVANCE, clock_id))
    return advancing


class Step(Enum):
    MOVED = "moved"  # on to the next moment; more to do
    WAITING = "waiting"  # for the deliveries due at its time to be made first
    ARRIVED = "arrived"  # at its target
    GONE = "gone"  # deleted or replaced meanwhile


def move_on(uow: UnitOfWork, clock_id: str) -> Step:
    """Move an advancing clock on to the first moment before its target at which something
    of the sandbox falls due (a policy expires, a session lapses, a webhook attempt is due), or
    to its target; not while the sandbox's deliveries due at its time are still to be made
    (their events to be routed, attempts to be made or recorded), so that each attempt is made
    and its retry scheduled at the time it was due."""
    clock = uow.test_clocks.get(clock_id)
    if clock is None or clock["advancing_to"] is None:
        return Step.GONE
    at, target = clock["frozen_time"], clock["advancing_to"]
    if uow.deliveries.outstanding(uow.principal, at, uow.wall()):
        return Step.WAITING
    if at == target:
        return Step.ARRIVED
    moment = uow.test_clocks.next_moment(at, target, ENDINGS)
    uow.test_clocks.set_time(clock_id, moment or target)
    return Step.MOVED


def arrived(uow: UnitOfWork, clock_id: str) -> None:
    """The clock has reached its target: it is ready."""
    clock = uow.test_clocks.get(clock_id)
    if clock is not None and clock["advancing_to"] == clock["frozen_time"]:
        uow.test_clocks.update(clock_id, {"status": READY, "advancing_to": None})


def delete(uow: UnitOfWork, clock_id: str) -> int:
    """Remove the clock: the sandbox is on the wall clock again. Its objects stay."""
    retrieve(uow, clock_id)
    uow.test_clocks.remove(clock_id)
    return uow.now
