"""Request log operations: a sandbox's requests and their answers."""

from __future__ import annotations

from server.api import page
from server.api import representation as show
from server.contract import schemas
from server.domain import request_logs
from server.store.unit_of_work import UnitOfWork


def list_request_logs(
    uow: UnitOfWork,
    limit: int,
    starting_after=None,
    ending_before=None,
    status=None,
    method=None,
    operation_id=None,
    idempotency_key=None,
    created_gte=None,
    created_lte=None,
) -> schemas.RequestLogList:
    given = {
        "status": status,
        "method": method,
        "operation_id": operation_id,
        "idempotency_key": idempotency_key,
        "created_gte": created_gte,
        "created_lte": created_lte,
    }
    filters = {name: value for name, value in given.items() if value is not None}
    found = request_logs.list_(uow, page("request", limit, starting_after, ending_before), filters)
    return [show.request_log(r) for r in found]


def retrieve_request_log(uow: UnitOfWork, request_id: str) -> schemas.RequestLog:
    return show.request_log(request_logs.retrieve(uow, request_id))
