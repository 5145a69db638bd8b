"""create_app(settings) -> the connexion AsyncApp serving openapi.yaml."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.validators import VALIDATOR_MAP

from server import files, hosted, mail
from server.config import Settings
from server.domain import keys as api_keys
from server.middleware import errors
from server.middleware.body_size import BodySizeLimitMiddleware
from server.middleware.idempotency import IdempotencyGate, IdempotencyRecorder
from server.middleware.rate_limit import RateLimiter, RateLimitMiddleware
from server.middleware.request_id import RequestIdMiddleware
from server.middleware.static_paths import StaticPathMethods
from server.middleware.validation import JSONBodyValidator, NamedParameterValidator
from server.resolver import TagResolver
from server.security import SECURITY_MAP
from server.services import Services, ServicesMiddleware
from server.spec import load_spec, spec_path
from server.store.db import Database, migrate
from server.worker import Worker


def create_app(settings: Settings | None = None) -> AsyncApp:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper())
    limiter = RateLimiter(settings.rate_limit, settings.redis_url)
    database = Database(settings.database_url)
    migrate(database.engine)
    if settings.api_key:
        api_keys.ensure_key(database, settings.api_key)

    if settings.smtp_url:
        mail.check_smtp_url(settings.smtp_url)

    @asynccontextmanager
    async def lifespan(_app):
        worker = Worker(database, settings) if settings.worker else None
        if worker:
            worker.start()
        yield
        if worker:
            worker.stop()
        database.dispose()

    app = AsyncApp(__name__, specification_dir=str(spec_path().parent), lifespan=lifespan)
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
    errors.install(app, load_spec())
    app.add_url_rule(files.ROUTE, "file", files.serve_file, methods=["GET"])
    hosted.add_routes(app)
    app.add_middleware(
        ServicesMiddleware,
        MiddlewarePosition.BEFORE_EXCEPTION,
        services=Services(settings=settings, database=database),
    )
    # Outermost to innermost; see DESIGN.md "The flow of one request".
    app.add_middleware(RequestIdMiddleware, MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(IdempotencyRecorder, MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(BodySizeLimitMiddleware, MiddlewarePosition.BEFORE_SWAGGER)
    app.add_middleware(RateLimitMiddleware, MiddlewarePosition.BEFORE_VALIDATION, limiter=limiter)
    app.add_middleware(StaticPathMethods, MiddlewarePosition.BEFORE_ROUTING, spec=load_spec())
    app.add_middleware(RequestIdMiddleware, MiddlewarePosition.BEFORE_CONTEXT)
    app.add_middleware(IdempotencyGate, MiddlewarePosition.BEFORE_CONTEXT, database=database)
    # connexion builds its stack on the first request; build it now so that a broken spec or
    # handler fails at start-up instead.
    app.middleware.app, app.middleware.middleware_stack = app.middleware._build_middleware_stack()
    return app
