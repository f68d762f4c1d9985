"""Prometheus metrics: one registry of names for the whole service.

Under several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (the deploy files do): every
process writes its samples there and a scrape of any worker aggregates all of them
(prometheus-client's multiprocess mode). Gauges declare how processes combine.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

HTTP_REQUESTS = Counter(
    "dossier_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "dossier_http_request_duration_seconds",
    "Time from request start to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_IN_FLIGHT = Gauge(
    "dossier_http_requests_in_flight",
    "Requests being handled right now.",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "dossier_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
CACHE_REQUESTS = Counter(
    "dossier_cache_requests_total",
    "Application cache look-ups by cache name and result (hit or miss).",
    ["cache", "result"],
)
RATE_LIMIT_REJECTIONS = Counter(
    "dossier_rate_limit_rejections_total",
    "Requests refused with 429, by policy.",
    ["policy"],
)
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "dossier_rate_limit_backend_errors_total",
    "Rate-limit checks that could not reach their storage (the request was let through).",
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def render_latest() -> tuple[bytes, str]:
    """The text exposition of every metric (aggregated over processes in multiprocess mode)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def instrument_pool(engine: AsyncEngine) -> None:
    """Track checked-out connections with pool events (works in every process)."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(*_args: Any) -> None:
        DB_POOL_IN_USE.inc()

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(*_args: Any) -> None:
        DB_POOL_IN_USE.dec()
