"""One access-log line per request, and a problem+json 500 for anything unhandled.

The line carries the request id (from context), method, route template (never the raw path
with ids in it), status, duration and client address. Headers and bodies are never logged.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response

logger = structlog.get_logger("dossier.access")
error_logger = structlog.get_logger("dossier.errors")

QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "<unmatched>"


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # Logged here with its stack trace and request id; the client gets a generic
            # problem without any of it.
            error_logger.exception(
                "unhandled_exception", method=scope["method"], route=route_template(scope)
            )
            status = 500
            if not response_started:
                response = problem_response(
                    scope, status=500, detail="An unexpected error occurred."
                )
                await response(scope, receive, send)
        finally:
            self._log(scope, status, start)

    def _log(self, scope: Scope, status: int, start: float) -> None:
        fields: dict[str, Any] = {
            "method": scope["method"],
            "route": route_template(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            "client": (scope.get("client") or ("-",))[0],
        }
        if status >= 500:
            logger.error("request", **fields)
        elif scope["path"] in QUIET_PATHS and status < 400:
            logger.debug("request", **fields)
        else:
            logger.info("request", **fields)
