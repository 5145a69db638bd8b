"""Handlers, one module per resource tag; see server/resolver.py for how operationIds land here."""

from __future__ import annotations

from connexion.context import scope
from pydantic import BaseModel, ValidationError

from server.domain.accounts import Principal
from server.domain.errors import InvalidRequest
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
