"""Advancing a test clock: from its time to its target, moment by moment, doing at each what
was due then (expiries announced, webhook attempts made by the worker's deliveries, retries
scheduled on the sandbox's time), so that what would have happened in between happens, in
order. An advance is a task run in steps: each announces what is due, then moves the clock on
or, while the sandbox's deliveries at its time are still to be made, waits for them. It runs in
slices of SLICE_SECONDS, between which the tasks of other sandboxes that came due run: a clock
advancing two years holds up no other account's documents, and its deliveries take their
account's share of the worker's, like any other."""

from __future__ import annotations

import time

from server.domain import clocks
from server.store.tasks import ClaimedTask
from server.worker import expiries
from server.worker.registry import Context, Record, Unfinished, task_kind

SLICE_SECONDS = 0.25


@task_kind(clocks.ADVANCE)
def advance(context: Context, task: ClaimedTask) -> Record | None:
    database, principal = context.database, task.principal
    slice_ends = time.monotonic() + SLICE_SECONDS
    while True:
        # What is due at the clock's time first (at the start, what a frozen clock left).
        expiries.announce_due(database)
        with database.unit_of_work(principal) as uow:
            step = clocks.move_on(uow, task.subject)
        if step is clocks.Step.GONE:
            return None
        if step is clocks.Step.ARRIVED:
            return lambda uow: clocks.arrived(uow, task.subject)
        if step is clocks.Step.WAITING:
            context.deliver(principal, max(0.0, slice_ends - time.monotonic()))
        if time.monotonic() >= slice_ends:
            raise Unfinished(f"test clock {task.subject} is on its way")
