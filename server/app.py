"""create_app(settings) -> the connexion AsyncApp serving openapi.yaml."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from functools import partial

from connexion import AsyncApp
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from server.contract.spec import load_spec
from server.core import heartbeat, logs, telemetry
from server.core.settings import Settings
from server.domain import keys as api_keys
from server.middleware import errors
from server.middleware.envelope import RequestEnvelope
from server.middleware.faults import Faults
from server.middleware.idempotency import Idempotency
from server.middleware.operations import Operations
from server.middleware.rate_limit import RateLimiter, RateLimitMiddleware
from server.middleware.request_log import RequestLog, RequestLogWriter
from server.middleware.resolver import TagResolver
from server.middleware.routes import RouteTemplates
from server.middleware.security import KeyCache, security_map
from server.middleware.statement_counts import StatementCounts
from server.middleware.validation import RequestValidation
from server.store import schema, statements
from server.store.db import Database
from server.web import files, hosted, operator
from server.worker import Worker, request_log_process
from server.worker.registry import KINDS

HANDLERS = "server.api"  # the package of the operations' handlers


def middlewares(
    settings: Settings,
    database: Database,
    limiter: RateLimiter,
    request_log: RequestLogWriter,
    tracing: telemetry.Tracing | None = None,
) -> list:
    """The request path, outermost first: one layer per promise (the README's "How a request
    is served"). Operations answers every resolved operation; what it passes on (Swagger UI,
    files, the hosted page, unresolved operations) reaches connexion's own app."""
    return [
        *([StatementCounts] if settings.count_statements else []),
        # request ids, early 405 and 413, access lines and metrics, and the request log: a
        # sandbox's requests and answers, whatever answered them, written after them
        partial(
            RequestEnvelope,
            spec=load_spec(),
            fixed_paths=operator.PATHS,
            request_log=RequestLog(request_log, load_spec(), HANDLERS)
            if settings.request_log
            else None,
        ),
        ExceptionMiddleware,  # every error in the contract's shape (server/middleware/errors.py)
        RoutingMiddleware,
        # a span per request, once routing has named its operation (OTEL_EXPORTER_OTLP_*)
        *(
            [tracing.middleware(RouteTemplates(load_spec(), operator.PATHS).label)]
            if tracing
            else []
        ),
        SecurityMiddleware,  # API keys (server/security.py)
        partial(RateLimitMiddleware, limiter=limiter),
        RequestValidation,
        Faults,  # Ten99Policy-Test-Fault, for sandbox keys
        partial(Idempotency, database=database),
        *([ResponseValidationMiddleware] if settings.validate_responses else []),
        LifespanMiddleware,
        partial(Operations, database=database, settings=settings),
        SwaggerUIMiddleware,
    ]


def create_app(settings: Settings | None = None) -> AsyncApp:
    settings = settings or Settings.from_env()
    logs.install()
    if not logging.getLogger().handlers:  # not configured by `serve`, nor by a test runner
        logs.configure(settings.log_level, settings.log_format)
    limiter = RateLimiter(settings.rate_limit, settings.redis_url)
    failures = RateLimiter(settings.auth_failure_limit, settings.redis_url)
    tracing = telemetry.from_environment()
    statements.trace_with(tracing.statement_span if tracing else None)
    database = Database(
        settings.database_url,
        on_engine=tracing.instrument_engine if tracing else None,
        request_connections=settings.database_connections,
    )
    schema.prepare(database.engine, may_migrate=settings.migrate_at_start)
    if settings.api_key:
        with database.server_work() as work:
            api_keys.ensure_key(work.keys, settings.api_key)

    request_log = RequestLogWriter(
        database,
        keep=settings.request_log_limit,
        process=os.environ.get(request_log_process.SOCKET),  # `serve`'s
    )
    worker = Worker(database, settings) if settings.worker else None
    probes = operator.Probes(database, _scheduler_age(worker), task_kinds=KINDS)

    @asynccontextmanager
    async def lifespan(_app):
        if worker:
            worker.start()
        # What start-up made (the contract and its schemas, the modules) lives as long as the
        # process: out of the collector's sight, a full collection scans only what requests
        # made (scanning it all held every request for ~100 ms, several times a second).
        gc.collect()
        gc.freeze()
        yield
        if worker:
            worker.stop(settings.shutdown_grace_seconds)
        await request_log.close()
        await database.close_requests()
        database.dispose()
        if tracing:
            tracing.shutdown()

    app = AsyncApp(
        __name__,
        lifespan=lifespan,
        middlewares=middlewares(settings, database, limiter, request_log, tracing),
    )
    app.add_api(
        load_spec(),  # parsed once in the process (connexion copies what it changes)
        resolver=TagResolver(HANDLERS),
        resolver_error=501,
        strict_validation=True,
        validate_responses=settings.validate_responses,
        security_map=security_map(KeyCache(database, failures)),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
    )
    errors.install(app, load_spec())
    files.add_route(app, database)
    hosted.add_routes(app, database)
    operator.add_routes(app, probes)
    # connexion builds its stack on the first request; build it now so that a broken spec or
    # handler fails at start-up instead.
    app.middleware.app, app.middleware.middleware_stack = app.middleware._build_middleware_stack()
    return app


def _route_names() -> Callable[[dict], str]:
    return RouteTemplates(load_spec(), operator.PATHS).label


def _scheduler_age(worker: Worker | None) -> Callable[[], float | None] | None:
    """How long ago the scheduler of this server last went round: its own worker's, or that of
    the worker process `serve` started beside it; None where it has none (TEN99_WORKER=off)."""
    if worker is not None:
        return worker.heartbeat.age
    beating = heartbeat.of_environment()
    if beating is not None:
        return partial(heartbeat.file_age, beating)
    return None
