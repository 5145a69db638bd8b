"""A sandbox as a whole: snapshots of it, kept per account, and put back on request; and a
reset that empties it. A suite of tests restores one before each test, as a fixture.

A sandbox keeps at most `Limits.count` snapshots of at most `Limits.size` bytes in all (their
compressed content)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, NotFound
from server.core.pagination import PageRequest
from server.domain import required, sandbox_only
from server.store.unit_of_work import UnitOfWork

WHAT = "Snapshots"


@dataclass(frozen=True)
class Limits:
    count: int
    size: int  # bytes


def create(uow: UnitOfWork, fields: schemas.SnapshotCreate, limits: Limits) -> dict[str, Any]:
    sandbox_only(uow.live, WHAT)
    # First of all: on PostgreSQL the capture's reads share the transaction's one view.
    captured = uow.sandbox.capture()
    count, size = uow.snapshots.usage()
    if count >= limits.count:
        raise InvalidRequest(
            f"The sandbox keeps {count} snapshots, as many as it may ({limits.count}): delete one "
            "first.",
            code="snapshot_limit_reached",
        )
    if size + len(captured.content) > limits.size:
        raise InvalidRequest(
            f"The snapshot would take {len(captured.content)} bytes, and the sandbox's snapshots "
            f"take {size} of the {limits.size} they may: delete one first.",
            code="snapshot_limit_reached",
        )
    return uow.snapshots.add_captured(fields["name"], captured, uow.wall())


def retrieve(uow: UnitOfWork, snapshot_id: str) -> dict[str, Any]:
    sandbox_only(uow.live, WHAT)
    return required(uow.snapshots.get(snapshot_id), "snapshot", snapshot_id, param="snapshot_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    sandbox_only(uow.live, WHAT)
    return uow.snapshots.page(page)


def delete(uow: UnitOfWork, snapshot_id: str) -> int:
    sandbox_only(uow.live, WHAT)
    if not uow.snapshots.remove(snapshot_id):
        raise NotFound("snapshot", snapshot_id, param="snapshot_id")
    return uow.wall()


def restore(uow: UnitOfWork, snapshot_id: str) -> dict[str, Any]:
    """Put the sandbox back as the snapshot saw it, in one transaction: its objects with their
    ids, its test clock, its events, deliveries and queued work."""
    snapshot = retrieve(uow, snapshot_id)
    uow.sandbox.restore(uow.snapshots.content(snapshot_id))
    uow.replaced_work()
    return snapshot


def reset(uow: UnitOfWork) -> int:
    """Empty the sandbox; returns when."""
    sandbox_only(uow.live, "Sandbox resets")
    uow.sandbox.wipe()
    uow.replaced_work()
    return uow.wall()
