"""Certificate operations: certificates of insurance uploaded for review."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.core.settings import Settings
from server.domain import uploaded_certificates
from server.store.unit_of_work import UnitOfWork


def list_certificates(
    uow: UnitOfWork,
    base_url: str,
    limit: int,
    starting_after=None,
    ending_before=None,
    expand=(),
) -> schemas.CertificateList:
    found = uploaded_certificates.list_(
        uow, page("certificate", limit, starting_after, ending_before)
    )
    return [show.certificate(r, base_url, live=uow.live, expand=expand) for r in found]


def create_certificate(
    uow: UnitOfWork, body: dict, base_url: str, settings: Settings
) -> schemas.Certificate:
    limit = settings.certificate_storage_bytes
    record = uploaded_certificates.upload(uow, body, storage_limit=limit)
    return show.certificate(record, base_url, live=uow.live)


def retrieve_certificate(
    uow: UnitOfWork, certificate_id: str, base_url: str, expand=()
) -> schemas.Certificate:
    record = uploaded_certificates.retrieve(uow, certificate_id)
    return show.certificate(record, base_url, live=uow.live, expand=expand)
