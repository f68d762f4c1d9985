"""Optional tracing: request and SQL spans, and the trace id in the access log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import httpx
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


async def test_request_and_sql_spans_share_the_trace_id_in_the_log(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(otel_enabled=True, otel_exporter="console")
    app = create_app(settings, configure_logs=False)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))

    @app.get("/_probe/traced/{item}")
    async def traced(item: str, session: SessionDep) -> dict[str, int]:
        return {"one": int(await session.scalar(text("SELECT 1")) or 0)}

    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer, trace_context=True)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get("/_probe/traced/abc", headers={"X-Request-ID": "tr-1"})
    finally:
        logging.getLogger().handlers.clear()
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
