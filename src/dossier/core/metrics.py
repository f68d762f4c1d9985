"""Prometheus metrics: one registry of names for the whole service.

Under several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (the deploy files do): every
process writes its samples there and a scrape of any worker aggregates all of them
(prometheus-client's multiprocess mode). Gauges declare how processes combine. In one process
the request metrics, updated on every request, are plain numbers behind a collector
(``_InProcessHttpMetrics``); the exposition is the same (tested against prometheus-client's).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from dossier.core.metrics_port import multiprocess_dir

REQUESTS_NAME = "dossier_http_requests_total"
REQUESTS_HELP = "HTTP requests answered, by method, route template and status."
LATENCY_NAME = "dossier_http_request_duration_seconds"
LATENCY_HELP = "Time from request start to the end of the response, by method and route template."
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
IN_FLIGHT_NAME = "dossier_http_requests_in_flight"
IN_FLIGHT_HELP = "Requests being handled right now."


class HttpMetrics(Protocol):
    """The request metrics every request updates (the edge middleware calls these)."""

    def started(self) -> None: ...

    def finished(self, method: str, route: str, status: int, duration: float) -> None: ...


class _SharedHttpMetrics:
    """prometheus-client's own metrics, for multiprocess mode: every update is written to the
    process's memory-mapped file, so a scrape of any worker sees all of them."""

    def __init__(self) -> None:
        self.requests = Counter(REQUESTS_NAME, REQUESTS_HELP, ["method", "route", "status"])
        self.latency = Histogram(
            LATENCY_NAME, LATENCY_HELP, ["method", "route"], buckets=LATENCY_BUCKETS
        )
        self.in_flight = Gauge(IN_FLIGHT_NAME, IN_FLIGHT_HELP, multiprocess_mode="livesum")
        # Labelled children by label values (routes are templates, so these stay small);
        # prometheus-client would look them up under a lock on every call.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def started(self) -> None:
        self.in_flight.inc()

    def finished(self, method: str, route: str, status: int, duration: float) -> None:
        self.in_flight.dec()
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[method, route, status] = self.requests.labels(
                method, route, str(status)
            )
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[method, route] = self.latency.labels(method, route)
        counter.inc()
        histogram.observe(duration)


class _InProcessHttpMetrics(Collector):
    """The same three metrics as plain numbers, read by a collector when scraped.

    One process (the embedded shape, or ``dossier serve`` without workers) needs no shared
    files, and the requests of one process are all counted on its event loop's thread, so the
    locks prometheus-client takes on every update (two per request for the in-flight gauge,
    one for the counter, two for the histogram: about a fifth of what the middleware stack
    cost, docs/performance.md) guard nothing here. A scrape from the metrics port's thread
    copies each row in one step; it may see the request being counted that very moment half
    recorded (counted, its latency not yet), which the next scrape corrects.
    """

    def __init__(self) -> None:
        self._bounds = tuple(float(bound) for bound in LATENCY_BUCKETS)
        # The "le" labels exactly as prometheus-client's own histogram writes them.
        self._le = [
            floatToGoString(bound)  # type: ignore[no-untyped-call]
            for bound in (*self._bounds, math.inf)
        ]
        self._in_flight = 0
        self._requests: dict[tuple[str, str, int], int] = {}
        # (method, route) → [count per bucket ..., count above the last bound, sum]
        self._latency: dict[tuple[str, str], list[float]] = {}
        # When each series was first seen (the ``_created`` samples prometheus-client writes).
        self._created: dict[tuple[Any, ...], float] = {}

    def started(self) -> None:
        self._in_flight += 1

    def finished(self, method: str, route: str, status: int, duration: float) -> None:
        self._in_flight -= 1
        key = (method, route, status)
        count = self._requests.get(key)
        if count is None:
            count = 0
            self._created[key] = time.time()
        self._requests[key] = count + 1
        row = self._latency.get((method, route))
        if row is None:
            self._created[method, route] = time.time()
            row = self._latency[method, route] = [0.0] * (len(self._bounds) + 2)
        row[bisect_left(self._bounds, duration)] += 1  # the first bound >= duration ("le")
        row[-1] += duration

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            REQUESTS_NAME, REQUESTS_HELP, labels=["method", "route", "status"]
        )
        created = self._created.copy()
        for (method, route, status), count in list(self._requests.items()):
            requests.add_metric(
                [method, route, str(status)], count, created=created.get((method, route, status))
            )
        latency = HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=["method", "route"])
        for (method, route), row in list(self._latency.items()):
            counts = row[:]
            cumulative = 0.0
            buckets = []
            for le, in_bucket in zip(self._le, counts, strict=False):
                cumulative += in_bucket
                buckets.append((le, cumulative))
            latency.add_metric([method, route], buckets, sum_value=counts[-1])
            if (method, route) in created:
                latency.add_sample(
                    LATENCY_NAME + "_created",
                    {"method": method, "route": route},
                    created[method, route],
                )
        yield requests
        yield latency
        yield GaugeMetricFamily(IN_FLIGHT_NAME, IN_FLIGHT_HELP, value=self._in_flight)


def _http_metrics() -> HttpMetrics:
    if multiprocess_dir():
        return _SharedHttpMetrics()
    metrics = _InProcessHttpMetrics()
    REGISTRY.register(metrics)
    return metrics


HTTP: HttpMetrics = _http_metrics()
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
