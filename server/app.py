"""create_app(settings) -> the connexion AsyncApp serving openapi.yaml."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.validators import VALIDATOR_MAP

from server.config import Settings
from server.domain import keys as api_keys
from server.middleware import errors
from server.middleware.request_id import RequestIdMiddleware
from server.middleware.validation import JSONBodyValidator, NamedParameterValidator
from server.resolver import TagResolver
from server.security import SECURITY_MAP
from server.services import Services, ServicesMiddleware
from server.store.db import Database, migrate

PACKAGE_DIR = Path(__file__).resolve().parent


def spec_path() -> Path:
    """openapi.yaml: packaged beside the code in a wheel, at the repository root otherwise."""
    packaged = PACKAGE_DIR / "openapi.yaml"
    return packaged if packaged.exists() else PACKAGE_DIR.parent / "openapi.yaml"


def create_app(settings: Settings | None = None) -> AsyncApp:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper())
    database = Database(settings.database_url)
    migrate(database.engine)
    if settings.api_key:
        api_keys.ensure_key(database, settings.api_key)

    app = AsyncApp(__name__, specification_dir=str(spec_path().parent))
    app.add_api(
        spec_path().name,
        resolver=TagResolver("server.api"),
        resolver_error=501,
        strict_validation=True,
        validate_responses=settings.validate_responses,
        security_map=SECURITY_MAP,
        validator_map={
            "parameter": NamedParameterValidator,
            "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": JSONBodyValidator}),
        },
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
    )
    errors.install(app, yaml.safe_load(spec_path().read_text()))
    app.add_middleware(
        ServicesMiddleware,
        MiddlewarePosition.BEFORE_EXCEPTION,
        services=Services(settings=settings, database=database),
    )
    app.add_middleware(RequestIdMiddleware, MiddlewarePosition.BEFORE_EXCEPTION)
    # connexion builds its stack on the first request; build it now so that a broken spec or
    # handler fails at start-up instead.
    app.middleware.app, app.middleware.middleware_stack = app.middleware._build_middleware_stack()
    return app
