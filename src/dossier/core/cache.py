"""The application cache: cache-aside with TTL jitter, single flight, hit/miss counters.

Built on cashews (memory in the embedded shape, Redis when configured). Values are stored as
JSON (never pickles, so a value read back from Redis cannot run code). N concurrent misses for
one key compute once: in one process through a shared future, across replicas through a
short Redis lock after which waiters read the freshly stored value. When the cache backend is
down, values are computed directly (a log line and the miss counter say so) and requests go on.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from cashews import Cache

from dossier.core.metrics import CACHE_REQUESTS

logger = structlog.get_logger("dossier.cache")

T = TypeVar("T")
_MISSING = object()
LOCK_SECONDS = 30


class AppCache:
    def __init__(self, *, redis_url: str | None, prefix: str, timeout: float = 2.0) -> None:
        self._cache = Cache()
        self._prefix = prefix + "cache:"
        self._distributed = redis_url is not None
        if redis_url:
            self._cache.setup(
                redis_url,
                pickle_type="json",
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                # cashews' pool blocks for a free connection (10 s by default) when all are busy
                wait_for_connection_timeout=timeout,
                suppress=False,
            )
        else:
            self._cache.setup("mem://?size=10000", pickle_type="json")
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self.stats: Counter[str] = Counter()

    async def close(self) -> None:
        await self._cache.close()

    def _key(self, name: str, key: str) -> str:
        return f"{self._prefix}{name}:{key}"

    async def _get(self, full_key: str) -> Any:
        try:
            return await self._cache.get(full_key, default=_MISSING)
        except Exception as exc:
            logger.warning("cache_unavailable", operation="get", error=type(exc).__name__)
            return _MISSING

    async def _set(self, full_key: str, value: Any, ttl: float) -> None:
        try:
            await self._cache.set(full_key, value, expire=ttl)
        except Exception as exc:
            logger.warning("cache_unavailable", operation="set", error=type(exc).__name__)

    def _count(self, name: str, result: str) -> None:
        self.stats[f"{name}:{result}"] += 1
        CACHE_REQUESTS.labels(name, result).inc()

    async def get_or_compute(
        self,
        name: str,
        key: str,
        compute: Callable[[], Awaitable[T]],
        *,
        ttl: float,
        jitter: float = 0.1,
    ) -> T:
        """The cached value, or ``compute()``'s result stored for ``ttl`` ± ``jitter``."""
        full_key = self._key(name, key)
        value = await self._get(full_key)
        if value is not _MISSING:
            self._count(name, "hit")
            return value  # type: ignore[no-any-return]
        pending = self._inflight.get(full_key)
        if pending is not None:
            self._count(name, "hit")  # served by the computation already under way
            return await asyncio.shield(pending)
        self._count(name, "miss")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[full_key] = future
        try:
            result = await self._compute_once(
                full_key, compute, ttl * random.uniform(1 - jitter, 1 + jitter)
            )
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a lone failure is not reported as unawaited
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(full_key, None)

    async def _compute_once(
        self, full_key: str, compute: Callable[[], Awaitable[T]], ttl: float
    ) -> T:
        if not self._distributed:
            result = await compute()
            await self._set(full_key, result, ttl)
            return result
        lock_key = full_key + ":lock"
        token = uuid.uuid4().hex
        try:
            acquired = await self._cache.set_lock(lock_key, token, expire=LOCK_SECONDS)
        except Exception as exc:
            logger.warning("cache_unavailable", operation="lock", error=type(exc).__name__)
            return await compute()
        if not acquired:
            # Another replica is computing: wait for its lock to go, then read its value.
            try:
                await self._cache.is_locked(lock_key, wait=LOCK_SECONDS, step=0.02)
            except Exception as exc:
                logger.warning("cache_unavailable", operation="wait", error=type(exc).__name__)
            value = await self._get(full_key)
            if value is not _MISSING:
                return value  # type: ignore[no-any-return]
            return await compute()
        try:
            value = await self._get(full_key)  # filled while we asked for the lock?
            if value is not _MISSING:
                return value  # type: ignore[no-any-return]
            result = await compute()
            await self._set(full_key, result, ttl)
            return result
        finally:
            try:
                await self._cache.unlock(lock_key, token)
            except Exception as exc:
                logger.warning("cache_unavailable", operation="unlock", error=type(exc).__name__)

    async def invalidate(self, name: str, key: str | None = None) -> None:
        """Drop one entry, or every entry of ``name``."""
        try:
            if key is None:
                await self._cache.delete_match(self._key(name, "*"))
            else:
                await self._cache.delete(self._key(name, key))
        except Exception as exc:
            logger.warning("cache_unavailable", operation="delete", error=type(exc).__name__)
