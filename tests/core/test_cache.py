"""The application cache in both shapes: single flight, TTL, invalidation, a dead backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from dossier.core.cache import AppCache
from tests.conftest import SESSION_TAG, TEST_REDIS_URL

BACKENDS = [
    pytest.param(None, id="memory"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[AppCache]:
    url = TEST_REDIS_URL if request.param == "redis" else None
    app_cache = AppCache(redis_url=url, prefix=f"dossier-test:{SESSION_TAG}:")
    yield app_cache
    await app_cache.close()


async def test_fifty_concurrent_misses_compute_once(cache: AppCache) -> None:
    computations = 0
    release = asyncio.Event()

    async def compute() -> dict[str, int]:
        nonlocal computations
        computations += 1
        await release.wait()
        return {"answer": 42}

    key = uuid.uuid4().hex
    tasks = [
        asyncio.create_task(cache.get_or_compute("stats", key, compute, ttl=60)) for _ in range(50)
    ]
    await asyncio.sleep(0.05)
    release.set()
    results = await asyncio.gather(*tasks)
    assert computations == 1
    assert all(result == {"answer": 42} for result in results)
    assert cache.stats["stats:miss"] == 1
    assert cache.stats["stats:hit"] == 49
    # and the next call is a plain hit
    assert await cache.get_or_compute("stats", key, compute, ttl=60) == {"answer": 42}
    assert computations == 1


@pytest.mark.redis
async def test_two_replicas_share_one_computation() -> None:
    prefix = f"dossier-test:{SESSION_TAG}:"
    replicas = [AppCache(redis_url=TEST_REDIS_URL, prefix=prefix) for _ in range(2)]
    computations = 0

    async def compute() -> list[int]:
        nonlocal computations
        computations += 1
        await asyncio.sleep(0.2)
        return [1, 2, 3]

    key = uuid.uuid4().hex
    try:
        results = await asyncio.gather(
            *(
                replica.get_or_compute("shared", key, compute, ttl=60)
                for replica in replicas
                for _ in range(25)
            )
        )
    finally:
        for replica in replicas:
            await replica.close()
    assert computations == 1
    assert all(result == [1, 2, 3] for result in results)


async def test_entries_expire_after_their_ttl(cache: AppCache) -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    key = uuid.uuid4().hex
    assert await cache.get_or_compute("ttl", key, compute, ttl=1, jitter=0) == 1
    assert await cache.get_or_compute("ttl", key, compute, ttl=1, jitter=0) == 1
    await asyncio.sleep(1.2)
    assert await cache.get_or_compute("ttl", key, compute, ttl=1, jitter=0) == 2


async def test_invalidation_forces_a_recompute(cache: AppCache) -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    key = uuid.uuid4().hex
    assert await cache.get_or_compute("inv", key, compute, ttl=60) == 1
    await cache.invalidate("inv", key)
    assert await cache.get_or_compute("inv", key, compute, ttl=60) == 2
    await cache.invalidate("inv")
    assert await cache.get_or_compute("inv", key, compute, ttl=60) == 3


async def test_a_failed_computation_is_not_cached(cache: AppCache) -> None:
    attempts = 0

    async def compute() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database hiccup")
        return "fine"

    key = uuid.uuid4().hex
    with pytest.raises(RuntimeError):
        await cache.get_or_compute("fail", key, compute, ttl=60)
    assert await cache.get_or_compute("fail", key, compute, ttl=60) == "fine"


async def test_unreachable_redis_degrades_to_computing() -> None:
    dead = AppCache(redis_url="redis://127.0.0.1:1/0", prefix="dossier-test:dead:")
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return 7

    try:
        assert await dead.get_or_compute("down", "k", compute, ttl=60) == 7
        assert await dead.get_or_compute("down", "k", compute, ttl=60) == 7
        await dead.invalidate("down")
    finally:
        await dead.close()
    assert calls == 2
