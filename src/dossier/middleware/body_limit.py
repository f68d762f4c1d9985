"""Request bodies are limited while they stream in: 413 as soon as the limit is passed.

A declared ``Content-Length`` over the limit is refused before any byte is read; a chunked
body is counted as it arrives, and the handler's next ``receive()`` fails once it is too big.
Routes that accept uploads get their own, larger limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response

# Methods whose requests carry no body: the limit has nothing to count.
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    pass


class BodyLimits:
    """The default limit and larger ones for some routes, ``(method, path regex, limit)``."""

    def __init__(self, default_limit: int, overrides: Sequence[tuple[str, str, int]] = ()) -> None:
        self.default_limit = default_limit
        self.overrides = [(m.upper(), re.compile(p), limit) for m, p, limit in overrides]

    def limit_for(self, method: str, path: str) -> int:
        for override_method, pattern, limit in self.overrides:
            if method == override_method and pattern.fullmatch(path):
                return limit
        return self.default_limit


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        limit = self.limits.limit_for(scope["method"], scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reject(scope, receive, send, 400, "Invalid Content-Length.")
                    return
                if declared > limit:
                    await self._too_large(scope, receive, send, limit)
                    return
                break

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._too_large(scope, receive, send, limit)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await self._reject(
            scope, receive, send, 413, f"The request body is larger than {limit} bytes."
        )

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        response = problem_response(
            scope, status=status, detail=detail, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
