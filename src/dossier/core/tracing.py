"""Optional OpenTelemetry tracing: off by default, on with ``DOSSIER_OTEL_ENABLED=true``.

Spans for every request (named by route template), SQL statements, outgoing httpx calls and
Redis commands. Spans go to an OTLP/HTTP collector (standard ``OTEL_EXPORTER_OTLP_*``
variables) or to the console. Log lines written inside a span carry its ``trace_id`` next to
the ``request_id``. The packages come with the ``tracing`` extra (installed in development).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from structlog.typing import EventDict, WrappedLogger

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from dossier.config import Settings

EXCLUDED_URLS = "health/live,health/ready,metrics"


def create_tracer_provider(settings: Settings) -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    from dossier import __version__

    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": settings.otel_service_name,
                "service.version": __version__,
                "deployment.environment": settings.env,
            }
        )
    )
    exporter: SpanExporter
    if settings.otel_exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )


def instrument_clients(
    provider: TracerProvider, engine: AsyncEngine, redis: Redis | None
) -> Callable[[], None]:
    """Instrument SQL, httpx and Redis; returns the undo, called when the app shuts down.

    The SQLAlchemy and httpx instrumentations are process-wide: left in place, they would keep
    making spans for a provider that is shut down (and refuse to instrument the next app's
    engine) in any process that builds more than one app.
    """
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares SQLAlchemy < 2.1 only; the event hooks it uses are unchanged
    # in 2.1, and tests/core/test_tracing.py proves SQL spans are produced.
    sql = SQLAlchemyInstrumentor()
    owns_sql = not sql.is_instrumented_by_opentelemetry  # e.g. by opentelemetry-instrument
    if owns_sql:
        sql.instrument(engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True)
    http = HTTPXClientInstrumentor()
    owns_http = not http.is_instrumented_by_opentelemetry
    if owns_http:
        http.instrument(tracer_provider=provider)
    if redis is not None:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor.instrument_client(redis, tracer_provider=provider)

    def undo() -> None:
        if redis is not None:
            RedisInstrumentor.uninstrument_client(redis)
        if owns_http:
            http.uninstrument()
        if owns_sql:
            sql.uninstrument()

    return undo


def add_trace_context(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current span's trace and span ids, when there is one."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict
