"""Contractor operations."""

from __future__ import annotations

from server import models, views
from server.api import database, deleted, page, parse, principal, public_base
from server.domain import contractors
from server.domain.pagination import DEFAULT_LIMIT


def _public(record: dict) -> dict:
    return views.contractor(record, public_base())


def list_contractors(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    found = contractors.list_(
        database(), principal(token_info), page(limit, starting_after, ending_before)
    )
    return [_public(r) for r in found]


def create_contractor(body: dict, token_info: dict):
    fields = parse(models.ContractorCreate, body)
    return _public(contractors.create(database(), principal(token_info), fields)), 201


def retrieve_contractor(contractor_id: str, token_info: dict):
    return _public(contractors.retrieve(database(), principal(token_info), contractor_id))


def update_contractor(contractor_id: str, body: dict, token_info: dict):
    changes = parse(models.ContractorUpdate, body)
    record = contractors.update(database(), principal(token_info), contractor_id, changes)
    return _public(record)


def delete_contractor(contractor_id: str, token_info: dict):
    deleted_at = contractors.delete(database(), principal(token_info), contractor_id)
    return deleted(models.DeletedContractor, contractor_id, "contractor", deleted_at)
