"""Optional tracing: request and SQL spans, and the trace id in the access log line."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.logging import configure_logging
from dossier.db.session import SessionDep


async def test_tracing_is_off_by_default(app: object) -> None:
    assert app.state.tracer_provider is None  # type: ignore[attr-defined]


async def _traced_probe(
    settings: Settings, buffer: io.StringIO
) -> tuple[httpx.Response, InMemorySpanExporter]:
    app = create_app(settings, configure_logs=False)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))

    @app.get("/_probe/traced/{item}")
    async def traced(item: str, session: SessionDep) -> dict[str, int]:
        return {"one": int(await session.scalar(text("SELECT 1")) or 0)}

    configure_logging("INFO", "json", stream=buffer, trace_context=True)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get("/_probe/traced/abc", headers={"X-Request-ID": "tr-1"})
    finally:
        logging.getLogger().handlers.clear()
    return response, exporter


async def test_request_and_sql_spans_share_the_trace_id_in_the_log(
    make_settings: Callable[..., Settings],
) -> None:
    buffer = io.StringIO()
    response, exporter = await _traced_probe(
        make_settings(otel_enabled=True, otel_exporter="console"), buffer
    )
    assert response.json() == {"one": 1}

    spans = exporter.get_finished_spans()
    server = next(span for span in spans if span.name == "GET /_probe/traced/{item}")
    sql = [span for span in spans if span.attributes and "db.statement" in span.attributes]
    assert sql, [(span.name, dict(span.attributes or {})) for span in spans]
    assert all(span.context.trace_id == server.context.trace_id for span in sql)

    record = next(
        json.loads(line) for line in buffer.getvalue().splitlines() if '"event": "request"' in line
    )
    assert record["request_id"] == "tr-1"
    assert record["trace_id"] == format(server.context.trace_id, "032x")


async def test_each_app_traces_its_own_engine_after_an_earlier_app_shut_down(
    make_settings: Callable[..., Settings],
) -> None:
    # The SQL and httpx instrumentations are process-wide: an app must undo them when it
    # shuts down, or the next app's engine reports to the old, shut-down provider.
    settings = make_settings(otel_enabled=True, otel_exporter="console")
    for _ in range(2):
        response, exporter = await _traced_probe(settings, io.StringIO())
        assert response.status_code == 200
        spans = exporter.get_finished_spans()
        assert any(span.attributes and "db.statement" in span.attributes for span in spans)


async def test_a_failed_start_up_undoes_what_it_had_set_up(
    make_settings: Callable[..., Settings],
) -> None:
    # The metrics port is taken, so start-up fails after the engine, Redis client and the
    # process-wide instrumentation exist: each must be undone, or every later engine of the
    # process reports its SQL to this app's shut-down provider.
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(
            otel_enabled=True, otel_exporter="console", metrics_port=port, host="127.0.0.1"
        )
        app = create_app(settings, configure_logs=False)
        with pytest.raises(OSError, match="in use"):
            async with LifespanManager(app):
                pass
    assert not SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
    assert not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
    response, exporter = await _traced_probe(
        make_settings(otel_enabled=True, otel_exporter="console"), io.StringIO()
    )
    assert response.status_code == 200
    assert any(
        span.attributes and "db.statement" in span.attributes
        for span in exporter.get_finished_spans()
    )
