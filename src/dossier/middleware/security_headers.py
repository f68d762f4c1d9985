"""Security and caching headers on every response.

- ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy``, a strict
  ``Content-Security-Policy`` for API responses and one that lets ``/docs`` and ``/redoc`` run;
  HSTS in production.
- Shared caches never store authenticated or auth responses: ``/api/*/auth/*`` answers
  ``no-store``; other responses without their own ``Cache-Control`` get ``private, no-cache``
  (browsers may keep them but must revalidate, e.g. with the ETag).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = b"max-age=63072000; includeSubDomains"
DOCS_PREFIXES = ("/docs", "/redoc")
ASSET_PREFIX = "/docs-assets/"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        is_docs = path.startswith(DOCS_PREFIXES)
        is_auth = "/auth/" in path and path.startswith("/api/")
        is_asset = path.startswith(ASSET_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"x-frame-options", b"DENY"))
                headers.append((b"referrer-policy", b"no-referrer"))
                headers.append((b"cross-origin-opener-policy", b"same-origin"))
                headers.append((b"content-security-policy", DOCS_CSP if is_docs else API_CSP))
                if self.hsts:
                    headers.append((b"strict-transport-security", HSTS))
                if is_auth:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                    headers.append((b"pragma", b"no-cache"))
                elif b"cache-control" not in present:
                    value = b"public, max-age=86400" if is_asset else b"private, no-cache"
                    headers.append((b"cache-control", value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
