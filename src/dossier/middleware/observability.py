"""Request id, access log and request metrics: one layer, one ``send`` wrapper.

- **Request id.** The client's ``X-Request-ID`` when well-formed, else a new one; echoed on the
  response, kept in ``scope["state"]["request_id"]`` (problem bodies carry it) and bound to the
  structlog context so every log line of the request has it.
- **Access log.** One line per request: method, route template (never the raw path with ids in
  it), status, duration, client address. Headers and bodies are never logged. Health checks and
  the metrics scrape log at debug level when they succeed.
- **Metrics.** Requests by method, route template and status; a latency histogram; in-flight.
- **Unhandled exceptions** are logged here with their stack trace and request id; the client
  gets a generic 500 problem without any of it.

The three used to be separate layers; each layer costs a coroutine call and a ``send`` wrapper
per request, which for these three was most of their price (docs/performance.md).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response
from dossier.core.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
UNMATCHED = "<unmatched>"
# Metric labels take the method from this set, anything else is "OTHER": a client choosing
# arbitrary methods must not create new time series (or grow the children kept below).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

logger = structlog.get_logger("dossier.access")
error_logger = structlog.get_logger("dossier.errors")
# The standard-library logger behind ``logger``: asking it whether a level is on is cheap
# (it caches the answer), building and filtering a structlog event is not.
_access = logging.getLogger("dossier.access")

# Labelled children by label values. Routes are templates, so these stay small (routes by
# methods by statuses); prometheus-client looks children up under a lock on every call.
_counters: dict[tuple[str, str, int], Any] = {}
_histograms: dict[tuple[str, str], Any] = {}


def _record(method: str, route: str, status: int, duration: float) -> None:
    counter = _counters.get((method, route, status))
    if counter is None:
        counter = _counters[method, route, status] = HTTP_REQUESTS.labels(
            method, route, str(status)
        )
    histogram = _histograms.get((method, route))
    if histogram is None:
        histogram = _histograms[method, route] = HTTP_LATENCY.labels(method, route)
    counter.inc()
    histogram.observe(duration)


def new_request_id() -> str:
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return UNMATCHED


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER:
            if _WELL_FORMED.match(value):
                return str(value.decode("ascii"))
            break
    return new_request_id()


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode("ascii")
        start = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_logger.exception(
                "unhandled_exception", method=scope["method"], route=route_template(scope)
            )
            status = 500
            if not response_started:
                response = problem_response(
                    scope, status=500, detail="An unexpected error occurred."
                )
                await response(scope, receive, send_wrapper)
        finally:
            HTTP_IN_FLIGHT.dec()
            duration = time.perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            _record(method if method in METHODS else "OTHER", route, status, duration)
            _log(scope, method, route, status, duration)
            structlog.contextvars.clear_contextvars()


def _log(scope: Scope, method: str, route: str, status: int, duration: float) -> None:
    if status >= 500:
        level = logging.ERROR
    elif scope["path"] in QUIET_PATHS and status < 400:
        level = logging.DEBUG
    else:
        level = logging.INFO
    # Decide as structlog would, only sooner: configured (configure_logging), its
    # filter_by_level asks the standard-library logger; left unconfigured, it writes everything.
    if structlog.is_configured() and not _access.isEnabledFor(level):
        return
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "client": (scope.get("client") or ("-",))[0],
    }
    logger.log(level, "request", **fields)
