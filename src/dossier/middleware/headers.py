"""The headers every response gets, decided once per path and added when the response starts.

- Security: ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy``,
  ``Cross-Origin-Opener-Policy``, a strict ``Content-Security-Policy`` for API responses and
  one that lets ``/docs`` and ``/redoc`` (and their assets) run; HSTS in production.
- Cache policy: shared caches never store authenticated or auth responses: ``/api/*/auth/*``
  answers ``no-store``; other responses without their own ``Cache-Control`` get
  ``private, no-cache`` (browsers may keep them but must revalidate, e.g. with the ETag); the
  documentation's static assets may be cached for a day.
- Deprecation (``core.deprecation``): ``Deprecation``, ``Sunset`` and the successor ``Link`` on
  every response under a deprecated prefix, errors and 304s included.

:class:`ResponseHeaders` is not a layer of its own: the edge layer (``middleware.edge``) asks
it for a :class:`HeaderPlan` when a request arrives and applies the plan in its one ``send``
wrapper. The plans are built at startup, one per kind of path, so a request costs a few prefix
checks and one list concatenation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dossier.core.deprecation import Deprecation, deprecation_headers

Headers = list[tuple[bytes, bytes]]

API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = b"max-age=63072000; includeSubDomains"
DOCS_PREFIXES = ("/docs", "/redoc")  # also matches the assets under /docs-assets/
ASSET_PREFIX = "/docs-assets/"
PRIVATE = b"private, no-cache"
ASSET_CACHE = b"public, max-age=86400"
NO_STORE: Headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class HeaderPlan:
    """The headers for one kind of path."""

    __slots__ = ("extra", "no_store", "with_default_cache")

    def __init__(self, extra: Headers, *, default_cache: bytes, no_store: bool = False) -> None:
        self.extra = extra
        self.with_default_cache = [*extra, (b"cache-control", default_cache)]
        self.no_store = no_store

    def apply(self, headers: Iterable[tuple[bytes, bytes]], last: tuple[bytes, bytes]) -> Headers:
        """The response's headers with the plan's, and ``last`` (the request id) instead of
        any header of its name the response had."""
        drop = last[0]
        out: Headers = []
        has_cache_control = False
        for header in headers:
            name = header[0].lower()
            if name == drop:
                continue
            if name == b"cache-control":
                if self.no_store:  # whatever the route said
                    continue
                has_cache_control = True
            out.append(header)
        out += self.extra if has_cache_control or self.no_store else self.with_default_cache
        if self.no_store:
            out += NO_STORE
        out.append(last)
        return out


class ResponseHeaders:
    def __init__(self, *, hsts: bool, deprecations: Sequence[Deprecation] = ()) -> None:
        common: Headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            common.append((b"strict-transport-security", HSTS))
        api = [*common, (b"content-security-policy", API_CSP)]
        docs = [*common, (b"content-security-policy", DOCS_CSP)]
        self.api = HeaderPlan(api, default_cache=PRIVATE)
        self.auth = HeaderPlan(api, default_cache=PRIVATE, no_store=True)
        self.docs = HeaderPlan(docs, default_cache=PRIVATE)
        self.assets = HeaderPlan(docs, default_cache=ASSET_CACHE)
        self.deprecated = [
            (
                rule,
                HeaderPlan([*api, *_encoded(rule)], default_cache=PRIVATE),
                HeaderPlan([*api, *_encoded(rule)], default_cache=PRIVATE, no_store=True),
            )
            for rule in deprecations
        ]

    def plan(self, path: str) -> HeaderPlan:
        auth = path.startswith("/api/") and "/auth/" in path
        for rule, plan, auth_plan in self.deprecated:
            if rule.matches(path):
                return auth_plan if auth else plan
        if auth:
            return self.auth
        if path.startswith(ASSET_PREFIX):
            return self.assets
        if path.startswith(DOCS_PREFIXES):
            return self.docs
        return self.api


def _encoded(rule: Deprecation) -> Headers:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in deprecation_headers(
            successor=rule.successor, sunset=rule.sunset, deprecated_since=rule.deprecated_since
        )
    ]
