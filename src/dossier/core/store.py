"""A small key-value store with expiry: process memory in the embedded shape, Redis when
``DOSSIER_REDIS_URL`` is set. The token deny-list uses it; so can anything else that needs
short-lived shared markers (one-time nonces, locks with a deadline, …).

Keys are plain strings; the Redis adapter puts the configured prefix in front of each one.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod

from redis.asyncio import Redis


class ExpiringStore(ABC):
    @abstractmethod
    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds`` (nothing is stored when ≤ 0)."""

    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    @abstractmethod
    async def delete(self, key: str) -> None: ...


class MemoryExpiringStore(ExpiringStore):
    """One process's memory. Expired entries are dropped when read and in periodic sweeps,
    so the dict never grows beyond what is live plus one sweep interval's worth."""

    SWEEP_EVERY = 1024  # writes between sweeps

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self._writes = 0

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        self._data[key] = (time.monotonic() + ttl_seconds, value)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            self._sweep()

    async def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [key for key, (expires, _) in self._data.items() if expires <= now]:
            del self._data[key]

    def __len__(self) -> int:
        self._sweep()
        return len(self._data)


class RedisExpiringStore(ExpiringStore):
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        await self._redis.set(self._prefix + key, value, px=max(1, math.ceil(ttl_seconds * 1000)))

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


def create_store(redis: Redis | None, *, prefix: str) -> ExpiringStore:
    if redis is None:
        return MemoryExpiringStore()
    return RedisExpiringStore(redis, prefix=prefix)
