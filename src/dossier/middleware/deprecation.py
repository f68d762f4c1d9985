"""Add deprecation headers to every response under a deprecated path prefix (pure ASGI)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.deprecation import Deprecation, deprecation_headers


class DeprecationMiddleware:
    def __init__(self, app: ASGIApp, *, deprecations: Sequence[Deprecation]) -> None:
        self.app = app
        # Encoded once: per request this is a prefix check and a list append.
        self._rules = [
            (
                rule,
                [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in deprecation_headers(
                        successor=rule.successor,
                        sunset=rule.sunset,
                        deprecated_since=rule.deprecated_since,
                    )
                ],
            )
            for rule in deprecations
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = next((headers for rule, headers in self._rules if rule.matches(path)), None)
        if extra is None:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
