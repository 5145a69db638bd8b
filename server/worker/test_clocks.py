"""Advancing a test clock: from its time to its target, moment by moment, doing at each what
was due then (expiries announced, webhook attempts made, retries scheduled on the sandbox's
time), so that what would have happened in between happens, in order."""

from __future__ import annotations

from server.domain import test_clocks
from server.store.tasks import ClaimedTask
from server.store.unit_of_work import UnitOfWork
from server.worker import expiries, webhooks
from server.worker.registry import Context, Record, task_kind


@task_kind(test_clocks.ADVANCE)
def advance(context: Context, task: ClaimedTask) -> Record | None:
    database, principal = context.database, task.principal
    with webhooks.client() as client:
        while True:
            # What is due at the clock's time first (at the start, what a frozen clock left).
            expiries.announce_due(database)
            webhooks.deliver_due(database, context.settings, client, principal=principal)
            with database.unit_of_work(principal) as uow:
                clock = uow.test_clocks.get(task.subject)
                if clock is None or clock["advancing_to"] is None:
                    return None  # deleted or replaced meanwhile
                at, target = clock["frozen_time"], clock["advancing_to"]
                if at == target:
                    break
                uow.test_clocks.set_time(
                    task.subject, uow.test_clocks.next_moment(at, target) or target
                )

    def record(uow: UnitOfWork) -> None:
        test_clocks.finish_advance(uow, task.subject, target)

    return record
