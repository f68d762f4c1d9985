"""Rate limits for every API request, before the body is read or a handler runs.

Who is counted: an authenticated caller by user id (the bearer token's signature is checked,
no database query), with a limit by role tier; anyone else by client address (as resolved by
the proxy-headers layer). Some routes add a stricter limit of their own (register, upload,
search). Every limited response carries ``RateLimit-Policy`` / ``RateLimit`` (IETF httpapi
draft) and ``X-RateLimit-*`` for the most restrictive policy that applied; a refusal is a 429
problem with ``Retry-After``. Login and refresh are limited per account and per address by the
auth service itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.errors import problem_response
from dossier.core.metrics import RATE_LIMIT_REJECTIONS
from dossier.core.ratelimit import Decision, RateLimiter, RateLimitPolicy
from dossier.core.security.tokens import VERIFIED_TOKEN_STATE, AccessTokenCodec, InvalidToken


@dataclass(frozen=True)
class RoutePolicy:
    method: str
    pattern: re.Pattern[str]
    policy: RateLimitPolicy
    per: str  # "user" (anonymous callers by address) or "address"


@dataclass(frozen=True)
class RateLimitRules:
    anonymous: RateLimitPolicy
    by_role: dict[str, RateLimitPolicy]
    routes: Sequence[RoutePolicy]
    access_cookie: str = "dossier_access"
    limited_prefix: str = "/api/"


def _bearer(scope: Scope, cookie_name: str) -> str | None:
    cookie_header = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return str(token).strip()
        elif name == b"cookie":
            cookie_header = value.decode("latin-1")
    if cookie_header:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:
            return None
        morsel = jar.get(cookie_name)
        if morsel is not None and morsel.value:
            return str(morsel.value)
    return None


def _most_restrictive(decisions: list[Decision]) -> Decision:
    refused = [decision for decision in decisions if not decision.allowed]
    if refused:
        return max(refused, key=lambda decision: decision.retry_after)
    return min(decisions, key=lambda decision: (decision.remaining, -decision.reset_after))


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, rules: RateLimitRules) -> None:
        self.app = app
        self.rules = rules

    def _identity(self, scope: Scope, codec: AccessTokenCodec) -> tuple[str, str | None]:
        """``(key, role)``: the user when the token verifies, else the client address."""
        token = _bearer(scope, self.rules.access_cookie)
        if token:
            try:
                claims = codec.verify(token)
            except InvalidToken:
                pass  # the route answers 401; count the attempt against the address
            else:
                scope.setdefault("state", {})[VERIFIED_TOKEN_STATE] = (token, claims)
                return f"user:{claims.subject}", claims.role
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}", None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.rules.limited_prefix):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        limiter: RateLimiter | None = state.rate_limiter
        if limiter is None or not limiter.enabled:
            await self.app(scope, receive, send)
            return
        identity, role = self._identity(scope, state.token_codec)
        address = scope.get("client")
        address_key = f"addr:{address[0] if address else 'unknown'}"
        base_policy = self.rules.by_role.get(role or "", self.rules.anonymous)
        decisions = [await limiter.hit(base_policy, identity)]
        for route in self.rules.routes:
            if route.method == scope["method"] and route.pattern.fullmatch(scope["path"]):
                key = address_key if route.per == "address" else identity
                decisions.append(await limiter.hit(route.policy, key))
        decision = _most_restrictive(decisions)
        headers = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]

        if not decision.allowed:
            RATE_LIMIT_REJECTIONS.labels(decision.policy).inc()
            response = problem_response(
                scope,
                status=429,
                code="rate_limited",
                detail=f"Too many requests; retry in {decision.retry_after} s.",
                headers=decision.headers(),
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                if b"ratelimit" not in present:  # a route's own (stricter) answer wins
                    message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
