"""What a policy's coverage means for the assignments bound to it: its own module, so that
policies (which change coverage) and assignments (which are bound to it) need not import each
other."""

from __future__ import annotations

from server.domain import events
from server.store.unit_of_work import UnitOfWork


def publish_coverage_change(uow: UnitOfWork, policy_id: str, *, active: bool) -> None:
    """The events of the assignments bound to a policy that was cancelled or reactivated."""
    event_type = "assignment.active" if active else "assignment.cancelled"
    for record in uow.assignments.live_for_policy(policy_id):
        uow.publish(event_type, events.ASSIGNMENT, record)
