"""Handlers, one module per resource tag; see server/resolver.py for how operationIds land here."""

from __future__ import annotations

from connexion.context import request, scope
from pydantic import BaseModel, ValidationError

from server.domain.accounts import Principal
from server.domain.errors import InvalidRequest
from server.domain.pagination import PageRequest
from server.services import services_of
from server.store.db import Database


def database() -> Database:
    return services_of(scope).database


def principal(token_info: dict) -> Principal:
    return token_info["principal"]


def parse(model: type[BaseModel], body: dict) -> dict:
    """The request body as the generated model sees it: only the fields the caller sent.

    connexion has validated the body against the spec already; pydantic can still be stricter
    (email syntax), and that is the caller's error too."""
    try:
        return model.model_validate(body).model_dump(mode="json", exclude_unset=True)
    except ValidationError as error:
        fields = [
            {"param": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()
        ]
        raise InvalidRequest(
            fields[0]["message"], param=fields[0]["param"], errors=fields
        ) from None


def page(limit: int, starting_after: str | None, ending_before: str | None) -> PageRequest:
    return PageRequest(limit=limit, starting_after=starting_after, ending_before=ending_before)


def deleted(model: type[BaseModel], object_id: str, kind: str, deleted_at: int) -> dict:
    return model(id=object_id, object=kind, deleted=True, deleted_at=deleted_at).model_dump(
        mode="json"
    )


def public_base() -> str:
    """Where clients reach this server: TEN99_PUBLIC_URL, or the address of this request."""
    base = services_of(scope).settings.public_url
    if base is None:
        url = request.url
        base = f"{url.scheme}://{url.netloc}"
    return base
