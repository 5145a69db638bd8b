"""Contractor operations."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import contractors
from server.store.unit_of_work import UnitOfWork


def list_contractors(
    uow: UnitOfWork, limit: int, starting_after=None, ending_before=None
) -> schemas.ContractorList:
    found = contractors.list_(uow, page("contractor", limit, starting_after, ending_before))
    return [show.contractor(r, live=uow.live) for r in found]


def create_contractor(uow: UnitOfWork, body: schemas.ContractorCreate) -> schemas.Contractor:
    return show.contractor(contractors.create(uow, body), live=uow.live)


def retrieve_contractor(uow: UnitOfWork, contractor_id: str) -> schemas.Contractor:
    return show.contractor(contractors.retrieve(uow, contractor_id), live=uow.live)


def update_contractor(
    uow: UnitOfWork, contractor_id: str, body: schemas.ContractorUpdate
) -> schemas.Contractor:
    return show.contractor(contractors.update(uow, contractor_id, body), live=uow.live)


def delete_contractor(uow: UnitOfWork, contractor_id: str) -> show.Deleted:
    return show.deletion(
        contractor_id, "contractor", contractors.delete(uow, contractor_id), live=uow.live
    )
