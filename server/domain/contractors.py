"""Contractors: what an update changes, how custom metadata merges, and the operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.contract import schemas
from server.core.errors import InvalidRequest, NotFound
from server.core.pagination import PageRequest
from server.domain import addresses, events, policies, required
from server.store.unit_of_work import UnitOfWork

MAX_METADATA_KEYS = 50


def merge_custom_metadata(current: dict[str, str], posted: dict[str, str]) -> dict[str, str]:
    """Apply posted metadata: `{}` unsets every key, an empty value unsets its key,
    any other value sets or replaces its key."""
    if not posted:
        return {}
    merged = dict(current)
    for key, value in posted.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def apply_update(current: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The contractor's fields after a partial update: fields in `changes` replace the current
    ones (`None` clears a nullable field), except custom_metadata, which merges."""
    updated = {**current, **changes}
    if "custom_metadata" in changes:
        updated["custom_metadata"] = merge_custom_metadata(
            current.get("custom_metadata") or {}, changes["custom_metadata"]
        )
        check_metadata_size(updated["custom_metadata"])
    return updated


def check_metadata_size(metadata: dict[str, str]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidRequest(
            f"custom_metadata can hold at most {MAX_METADATA_KEYS} keys; "
            f"this update would leave {len(metadata)}.",
            param="custom_metadata",
        )


def create(uow: UnitOfWork, fields: schemas.ContractorCreate) -> dict[str, Any]:
    metadata = merge_custom_metadata({}, fields.get("custom_metadata") or {})
    check_metadata_size(metadata)
    record = uow.contractors.add({**addresses.stored(fields), "custom_metadata": metadata}, uow.now)
    uow.publish("contractor.created", events.CONTRACTOR, record)
    return record


def retrieve(uow: UnitOfWork, contractor_id: str) -> dict[str, Any]:
    return required(
        uow.contractors.get(contractor_id), "contractor", contractor_id, param="contractor_id"
    )


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.contractors.page(page)


def update(
    uow: UnitOfWork, contractor_id: str, changes: schemas.ContractorUpdate
) -> dict[str, Any]:
    # Read the stored fields (the write-only tax id included) and the shown ones apart: a
    # change to the tax id alone reports no event that would look like the last one.
    before = retrieve(uow, contractor_id)
    current = uow.contractors.stored(contractor_id)
    record = uow.contractors.update(contractor_id, apply_update(current, addresses.stored(changes)))
    if record != before:
        uow.publish("contractor.updated", events.CONTRACTOR, record)
    return record


def delete(uow: UnitOfWork, contractor_id: str) -> int:
    """Delete a contractor and cancel the policies in force for it; returns when, in Unix
    seconds."""
    if not uow.contractors.remove(contractor_id):
        raise NotFound("contractor", contractor_id, param="contractor_id")
    deletion = events.deletion(contractor_id, "contractor", uow.now)
    uow.publish("contractor.deleted", events.DELETED, deletion)
    # Policies keep their own copy of what their document shows, so this may follow.
    policies.cancel_contractor_policies(uow, contractor_id)
    return uow.now
