"""Contractors: what an update changes, how custom metadata merges, and the operations."""

from __future__ import annotations

from typing import Any

from server.domain import events, policies
from server.domain.accounts import Principal
from server.domain.clock import now
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.store.contractors import CONTRACTORS
from server.store.db import Database

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


def apply_update(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
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


def create(db: Database, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    fields = dict(fields)
    fields["custom_metadata"] = merge_custom_metadata({}, fields.get("custom_metadata") or {})
    check_metadata_size(fields["custom_metadata"])
    with db.transaction() as session:
        record = CONTRACTORS.create(session, principal, fields)
        events.record(
            session, principal, "contractor.created", events.CONTRACTOR, record, record["created"]
        )
        return record


def retrieve(db: Database, principal: Principal, contractor_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return CONTRACTORS.get(session, principal, contractor_id)


def list_(db: Database, principal: Principal, page: PageRequest) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return CONTRACTORS.list_(session, principal, page)


def update(
    db: Database, principal: Principal, contractor_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    with db.transaction() as session:
        before = CONTRACTORS.get(session, principal, contractor_id)
        current = CONTRACTORS.fields(session, principal, contractor_id)
        record = CONTRACTORS.save(session, principal, contractor_id, apply_update(current, changes))
        if record != before:
            events.record(
                session, principal, "contractor.updated", events.CONTRACTOR, record, now()
            )
        return record


def delete(db: Database, principal: Principal, contractor_id: str) -> int:
    """Delete a contractor and cancel the policies in force for it; returns when, in Unix
    seconds."""
    at = now()
    with db.transaction() as session:
        CONTRACTORS.remove(session, principal, contractor_id)
        deletion = events.deletion(contractor_id, "contractor", at)
        events.record(session, principal, "contractor.deleted", events.DELETED, deletion, at)
        # Policies keep their own copy of what their document shows, so this may follow.
        policies.cancel_contractor_policies(session, principal, contractor_id, at)
    return at
