"""Traces through OpenTelemetry, sent over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or its
traces-only variant) is set: a span per request, named by its route template, with a span per
database statement beneath it. The standard OTEL_* variables configure the rest (the service's
name, OTEL_SERVICE_NAME, defaults to ten99-server). Without the endpoint nothing of
OpenTelemetry is imported, and the request path is unchanged."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "ten99-server"


class Tracing:
    """The tracer provider of this process, and what instruments the app and its engines."""

    def __init__(self) -> None:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
        self.provider = TracerProvider(resource=Resource.create({"service.name": name}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(self.provider)
        self._tracer = self.provider.get_tracer(__name__)

    def statement_span(self, sql: str, system: str) -> AbstractContextManager:
        """A client span around a statement run on the driver directly."""
        from opentelemetry.trace import SpanKind

        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
        attributes = {"db.system": system, "db.statement": sql}
        return self._tracer.start_as_current_span(verb, kind=SpanKind.CLIENT, attributes=attributes)

    def instrument_engine(self, engine: Any) -> None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=self.provider)

    def middleware(self, name_of: Callable[[dict], str]) -> Callable:
        """An ASGI middleware factory: a server span per request, named `METHOD <name_of>`."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        def details(scope: dict) -> tuple[str, dict]:
            return f"{scope['method']} {name_of(scope)}", {"http.route": name_of(scope)}

        def wrap(app):
            return OpenTelemetryMiddleware(
                app,
                default_span_details=details,
                tracer_provider=self.provider,
                exclude_spans=["receive", "send"],  # a span per ASGI message is noise here
            )

        return wrap

    def shutdown(self) -> None:
        self.provider.shutdown()  # what is batched is sent


def from_environment() -> Tracing | None:
    if not any(os.environ.get(name) for name in ENDPOINTS):
        return None
    return Tracing()
