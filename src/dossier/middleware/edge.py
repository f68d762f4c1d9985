"""The edge: the one layer every request passes through, with one ``send`` wrapper.

- **Request id.** The client's ``X-Request-ID`` when well-formed, else a new one (128 random
  bits, hex); echoed on the response, kept in ``scope["state"]["request_id"]`` (problem bodies
  carry it) and in ``core.logging.REQUEST_ID`` so every log line of the request has it.
- **Access log.** One line per request: method, route template (never the raw path with ids in
  it), status, duration, client address. Headers and bodies are never logged. Health checks and
  the metrics scrape log at debug level when they succeed.
- **Metrics.** Requests by method, route template and status; a latency histogram; in-flight
  (``core.metrics.HTTP``).
- **Trusted hosts** (``middleware.trusted_host``): 400 ``invalid_host`` for other hosts.
- **Response headers.** Security headers, the cache policy and deprecation headers
  (``middleware.headers``).
- **The time limit** (``middleware.timeout``): the clock starts when the request arrives and
  stops when the handler's response starts; an overdue request gets a 503 problem.
- **Unhandled exceptions** are logged here with their stack trace and request id; the client
  gets a generic 500 problem without any of it.

Then the request enters the layers it needs and only those: CORS for a request with an
``Origin`` (when origins are configured), gzip when the client accepts it, the body limit when
the method may carry a body. The 500 and 503 written here pass through CORS as well.

These were eight layers. A layer costs a coroutine call per request and, when it adds
headers, a ``send`` wrapper every message passes through; for work this small that was most of
the price (docs/performance.md). Each concern keeps its own module; this layer runs them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response
from dossier.core.logging import REQUEST_ID
from dossier.core.metrics import HTTP
from dossier.middleware.body_limit import BODYLESS, BodyLimitMiddleware, BodyLimits
from dossier.middleware.headers import ResponseHeaders
from dossier.middleware.timeout import Deadlines, LoopDeadlines, timeout_problem
from dossier.middleware.trusted_host import TrustedHosts

HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
UNMATCHED = "<unmatched>"
# Metric labels take the method from this set, anything else is "OTHER": a client choosing
# arbitrary methods must not create new time series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

logger = structlog.get_logger("dossier.access")
error_logger = structlog.get_logger("dossier.errors")
timeout_logger = structlog.get_logger("dossier.timeout")
# The standard-library logger behind ``logger``: asking it whether a level is on is cheap
# (it caches the answer), building and filtering a structlog event is not.
_access = logging.getLogger("dossier.access")


def new_request_id() -> str:
    # 32 hex digits, as uuid4().hex, for a tenth of its cost. A request id correlates log
    # lines and is echoed to the client; it is no secret, so it needs uniqueness, not a
    # cryptographic source (``random`` is seeded from the OS and again in every forked worker).
    return f"{random.getrandbits(128):032x}"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return UNMATCHED


# Where the edge leaves a request's clock for the layer that watches the handler's response
# start under gzip.
CLOCK = "dossier.clock"


class _HandlerStart:
    """Just inside gzip, which holds the handler's start message back until the first chunk
    of body: the handler's response has started, so its time limit no longer applies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        clock: tuple[LoopDeadlines, asyncio.Task[object]] | None = scope.get(CLOCK)
        if clock is None:
            return self.app(scope, receive, send)
        deadlines, task = clock

        def watch(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                deadlines.stop(task)
            return send(message)

        return self.app(scope, receive, watch)


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        headers: ResponseHeaders,
        deadlines: Deadlines | None,
        body_limits: BodyLimits,
        gzip_minimum_size: int,
        trusted_hosts: TrustedHosts | None = None,
        cors: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.headers = headers
        self.deadlines = deadlines
        self.trusted_hosts = trusted_hosts
        self.cors = cors
        # The stack for each kind of request: (CORS, gzip, body limit) → app.
        self.stacks: dict[tuple[bool, bool, bool], ASGIApp] = {}
        for wrap in (None, cors) if cors is not None else (None,):
            for compress in (False, True):
                for limit in (False, True):
                    inner = app
                    if limit:
                        inner = BodyLimitMiddleware(inner, limits=body_limits)
                    if compress:
                        inner = GZipMiddleware(_HandlerStart(inner), minimum_size=gzip_minimum_size)
                    if wrap is not None:
                        inner = wrap(inner)
                    self.stacks[wrap is not None, compress, limit] = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # One pass over the request headers for everything decided here (the first header of
        # a name counts, as elsewhere).
        request_id = host = None
        accepts_gzip: bool | None = None
        origin = False
        for name, value in scope["headers"]:
            if name == HEADER:
                if request_id is None:
                    request_id = value.decode("latin-1") if _WELL_FORMED.match(value) else ""
            elif name == b"accept-encoding":
                if accepts_gzip is None:
                    accepts_gzip = b"gzip" in value
            elif name == b"origin":
                origin = True
            elif name == b"host" and host is None:
                host = value.decode("latin-1")
        if not request_id:
            request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        with_cors = origin and self.cors is not None
        app = self.stacks[with_cors, accepts_gzip is True, scope["method"] not in BODYLESS]
        if self.trusted_hosts is not None and not self.trusted_hosts.allowed(host or ""):
            app = problem_response(
                scope, status=400, code="invalid_host", detail="The Host header is not accepted."
            )
        request_id_header = (HEADER, request_id.encode("ascii"))
        plan = self.headers.plan(scope["path"])
        start = time.perf_counter()
        status = 500
        response_started = False
        clock: tuple[LoopDeadlines, asyncio.Task[object]] | None = None
        cancelling = 0
        if self.deadlines is not None:
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()
            clock = scope[CLOCK] = (self.deadlines.start(task), task)

        # A plain function returning ``send``'s awaitable: callers await what it returns, and
        # no coroutine is made per message.
        def send_wrapper(message: Message) -> Awaitable[None]:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                if clock is not None:
                    clock[0].stop(clock[1])
                message["headers"] = plan.apply(message.get("headers", ()), request_id_header)
            return send(message)

        context = REQUEST_ID.set(request_id)
        HTTP.started()
        try:
            await app(scope, receive, send_wrapper)
        except asyncio.CancelledError:
            started = None if clock is None else clock[0].claim(clock[1], cancelling)
            if clock is None or started is None:
                raise
            route = route_template(scope)
            if started:  # the response is under way: nothing more can be said to the client
                status = 500
                error_logger.error("request_timeout_after_start", route=route)
            else:
                status = 503
                seconds = clock[0].seconds
                timeout_logger.warning("request_timeout", path_template=route, seconds=seconds)
                await self._own(timeout_problem(scope, seconds), with_cors)(
                    scope, receive, send_wrapper
                )
        except Exception:
            error_logger.exception(
                "unhandled_exception", method=scope["method"], route=route_template(scope)
            )
            status = 500
            if not response_started:
                response = problem_response(
                    scope, status=500, detail="An unexpected error occurred."
                )
                await self._own(response, with_cors)(scope, receive, send_wrapper)
        finally:
            if clock is not None:
                clock[0].finish(clock[1])
            duration = time.perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            HTTP.finished(method if method in METHODS else "OTHER", route, status, duration)
            _log(scope, method, route, status, duration)
            REQUEST_ID.reset(context)

    def _own(self, response: ASGIApp, with_cors: bool) -> ASGIApp:
        """An answer written here, through CORS when the request went through it."""
        return self.cors(response) if with_cors and self.cors is not None else response


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
