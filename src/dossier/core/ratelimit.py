"""The one rate limiter of the code base, on the ``limits`` library (moving window).

Storage is process memory in the embedded shape and Redis when ``DOSSIER_REDIS_URL`` is set,
so every API replica shares the same counters. Callers describe a limit once as a
:class:`RateLimitPolicy` and ask :meth:`RateLimiter.hit` whether one more request fits::

    decision = await limiter.hit(LOGIN_PER_ADDRESS, client_address)
    if not decision.allowed:
        raise TooManyRequests(headers=decision.headers())

The identifiers are hashed before they become storage keys, so neither emails nor addresses
are readable in Redis. A storage failure lets the request through (and is logged): an outage
of Redis must not lock every user out.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from dossier.core.metrics import RATE_LIMIT_BACKEND_ERRORS

logger = structlog.get_logger("dossier.ratelimit")


@dataclass(frozen=True)
class RateLimitPolicy:
    """A named limit such as ``login-account`` at ``10/minute``."""

    name: str
    item: RateLimitItem = field(compare=False)

    @classmethod
    def parse(cls, name: str, limit: str) -> RateLimitPolicy:
        """``limit`` in the ``limits`` notation: ``10/minute``, ``100 per hour``, …"""
        return cls(name=name, item=parse(limit))

    @property
    def limit(self) -> int:
        return int(self.item.amount)

    @property
    def window_seconds(self) -> int:
        return int(self.item.get_expiry())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window has room for a full quota again
    retry_after: int  # seconds to wait before a retry can succeed; 0 when allowed
    policy: str = ""
    window: int = 0

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy`` / ``RateLimit`` (IETF httpapi draft) and, when refused,
        ``Retry-After``."""
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_after}',
            # The older de-facto headers, for clients that only know them (reset in seconds).
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _storage_uri(redis_url: str) -> str:
    for scheme in ("redis://", "rediss://", "redis+unix://"):
        if redis_url.startswith(scheme):
            return "async+" + redis_url
    raise ValueError("the rate limiter needs a redis:// or rediss:// URL")


def _key(identifier: str) -> str:
    return hashlib.sha256(identifier.encode()).hexdigest()[:32]


class RateLimiter:
    def __init__(
        self,
        *,
        redis_url: str | None = None,
        key_prefix: str = "dossier:",
        enabled: bool = True,
        timeout: float = 2.0,
    ) -> None:
        self.enabled = enabled
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                _storage_uri(redis_url),
                implementation="redispy",
                key_prefix=f"{key_prefix}ratelimit",
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)

    async def hit(self, policy: RateLimitPolicy, *keys: str) -> Decision:
        """Count one request against ``policy`` for the caller named by ``keys``."""
        if not self.enabled:
            return Decision(
                allowed=True,
                limit=policy.limit,
                remaining=policy.limit,
                reset_after=0,
                retry_after=0,
                policy=policy.name,
                window=policy.window_seconds,
            )
        identifiers = (policy.name, *(_key(key) for key in keys))
        try:
            allowed = await self._strategy.hit(policy.item, *identifiers)
            stats = await self._strategy.get_window_stats(policy.item, *identifiers)
        except Exception as exc:
            # Fail open: an outage of the limiter's storage must not lock every client out.
            RATE_LIMIT_BACKEND_ERRORS.inc()
            logger.error("rate_limit_storage_failed", error_class=type(exc).__name__)
            return Decision(
                True, policy.limit, policy.limit, 0, 0, policy.name, policy.window_seconds
            )
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(
            allowed=allowed,
            limit=policy.limit,
            remaining=max(0, int(stats.remaining)),
            reset_after=reset_after,
            retry_after=0 if allowed else max(1, reset_after),
            policy=policy.name,
            window=policy.window_seconds,
        )

    async def reset(self, policy: RateLimitPolicy, *keys: str) -> None:
        await self._strategy.clear(policy.item, policy.name, *(_key(key) for key in keys))

    async def close(self) -> None:
        # The memory storage expires entries from a background task; end it with the app.
        timer = getattr(self._storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
