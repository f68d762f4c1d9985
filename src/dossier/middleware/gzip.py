"""Starlette's GZip layer, entered only by requests whose client accepts gzip.

Starlette wraps every response, even for a client that never asked for compression (its
identity responder holds the start message back until the body is seen); here such requests
go straight through. Only ``Vary: Accept-Encoding`` on their larger responses is lost, which
is harmless: an uncompressed response suits every client, and compressed ones still carry it.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.types import Receive, Scope, Send


class GZipMiddleware(StarletteGZipMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(
            name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"]
        ):
            await super().__call__(scope, receive, send)
            return
        await self.app(scope, receive, send)
