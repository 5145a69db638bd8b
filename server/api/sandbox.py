"""Sandbox operations: snapshots of the sandbox, restored on request, and resets."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.core.settings import Settings
from server.domain import sandboxes
from server.store.unit_of_work import UnitOfWork


def list_snapshots(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.SnapshotList:
    found = sandboxes.list_(uow, page("snapshot", limit, starting_after, ending_before))
    return [show.snapshot(r) for r in found]


def create_snapshot(
    uow: UnitOfWork, body: schemas.SnapshotCreate, settings: Settings
) -> schemas.Snapshot:
    limits = sandboxes.Limits(settings.snapshots_per_sandbox, settings.snapshot_storage_bytes)
    return show.snapshot(sandboxes.create(uow, body, limits))


def retrieve_snapshot(uow: UnitOfWork, snapshot_id: str) -> schemas.Snapshot:
    return show.snapshot(sandboxes.retrieve(uow, snapshot_id))


def delete_snapshot(uow: UnitOfWork, snapshot_id: str) -> show.Deleted:
    deleted_at = sandboxes.delete(uow, snapshot_id)
    return show.deletion(snapshot_id, "snapshot", deleted_at, live=False)


def restore_snapshot(uow: UnitOfWork, snapshot_id: str) -> schemas.Snapshot:
    return show.snapshot(sandboxes.restore(uow, snapshot_id))


def reset_sandbox(uow: UnitOfWork) -> schemas.SandboxReset:
    return show.sandbox_reset(sandboxes.reset(uow))
