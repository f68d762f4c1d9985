"""The expiring key-value store: memory and Redis behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from dossier.core.store import ExpiringStore, MemoryExpiringStore, RedisExpiringStore
from tests.conftest import SESSION_TAG, TEST_REDIS_URL


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ExpiringStore]:
    if request.param == "memory":
        yield MemoryExpiringStore()
        return
    assert TEST_REDIS_URL is not None
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        yield RedisExpiringStore(redis, prefix=f"dossier-test:{SESSION_TAG}:")
    finally:
        await redis.aclose()


async def test_set_get_delete(store: ExpiringStore) -> None:
    assert await store.get("a") is None
    await store.set("a", b"1", ttl_seconds=30)
    assert await store.get("a") == b"1"
    assert await store.exists("a")
    await store.delete("a")
    assert not await store.exists("a")


async def test_entries_expire(store: ExpiringStore) -> None:
    await store.set("short", b"x", ttl_seconds=0.05)
    await store.set("never", b"x", ttl_seconds=0)
    assert not await store.exists("never")
    for _ in range(50):  # bounded: expiry is due after 50 ms
        if not await store.exists("short"):
            break
        await asyncio.sleep(0.02)
    assert not await store.exists("short")


async def test_memory_store_sweeps_expired_entries() -> None:
    store = MemoryExpiringStore()
    await store.set("gone", b"x", ttl_seconds=0.001)
    await store.set("kept", b"x", ttl_seconds=60)
    await asyncio.sleep(0.01)
    assert len(store) == 1
