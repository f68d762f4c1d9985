"""A handler that has not started its response within the time limit gets a 503 problem.

Only the time until the response starts is limited, so streaming responses (Server-Sent
Events, downloads) run as long as they need once they have begun.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response

logger = structlog.get_logger("dossier.timeout")


class RequestTimeoutMiddleware:
    def __init__(
        self, app: ASGIApp, *, seconds: float, exempt_prefixes: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.exempt = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0 or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        response_started = False
        deadline = asyncio.timeout(self.seconds)

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start" and not response_started:
                response_started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, send_wrapper)
        except TimeoutError:
            if response_started:
                raise
            logger.warning(
                "request_timeout",
                path_template=scope.get("route") and getattr(scope["route"], "path", None),
                seconds=self.seconds,
            )
            response = problem_response(
                scope,
                status=503,
                code="request_timeout",
                detail=f"The request took longer than {self.seconds:g} s and was stopped.",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
