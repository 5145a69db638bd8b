"""Contractor operations."""

from __future__ import annotations

from server import models
from server.api import database, parse, principal
from server.domain import contractors
from server.domain.pagination import DEFAULT_LIMIT, PageRequest


def _public(record: dict) -> dict:
    return models.Contractor.model_validate(record).model_dump(mode="json")


def list_contractors(
    token_info: dict,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
):
    page = PageRequest(limit=limit, starting_after=starting_after, ending_before=ending_before)
    return [_public(r) for r in contractors.list_(database(), principal(token_info), page)]


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
    return models.DeletedContractor(
        id=contractor_id, object="contractor", deleted=True, deleted_at=deleted_at
    ).model_dump(mode="json")
