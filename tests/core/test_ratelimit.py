"""The rate limiter core: decisions, headers, keys, storage in memory and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dossier.config import Settings
from dossier.core.ratelimit import RateLimiter, RateLimitPolicy
from tests.conftest import SESSION_TAG, TEST_REDIS_URL

POLICY = RateLimitPolicy.parse("test", "2/minute")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    url = TEST_REDIS_URL if request.param == "redis" else None
    rate_limiter = RateLimiter(redis_url=url, key_prefix=f"dossier-test:{SESSION_TAG}:")
    try:
        yield rate_limiter
    finally:
        await rate_limiter.close()


async def test_hits_until_the_limit_then_refuses(limiter: RateLimiter) -> None:
    first = await limiter.hit(POLICY, "alice")
    assert (first.allowed, first.limit, first.remaining, first.retry_after) == (True, 2, 1, 0)
    assert first.headers() == {
        "RateLimit-Policy": '"test";q=2;w=60',
        "RateLimit": f'"test";r=1;t={first.reset_after}',
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(first.reset_after),
    }
    second = await limiter.hit(POLICY, "alice")
    assert second.allowed
    assert second.remaining == 0
    third = await limiter.hit(POLICY, "alice")
    assert not third.allowed
    assert 1 <= third.retry_after <= 60
    assert third.headers()["Retry-After"] == str(third.retry_after)
    # Keys are independent.
    assert (await limiter.hit(POLICY, "bob")).allowed
    await limiter.reset(POLICY, "alice")
    assert (await limiter.hit(POLICY, "alice")).allowed


async def test_disabled_limiter_allows_everything() -> None:
    limiter = RateLimiter(enabled=False)
    for _ in range(5):
        assert (await limiter.hit(POLICY, "x")).allowed


@pytest.mark.redis
async def test_redis_keys_do_not_reveal_identifiers() -> None:
    from redis.asyncio import Redis

    assert TEST_REDIS_URL is not None
    limiter = RateLimiter(redis_url=TEST_REDIS_URL, key_prefix=f"dossier-test:{SESSION_TAG}:")
    await limiter.hit(POLICY, "someone@example.com")
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"dossier-test:{SESSION_TAG}:*")]
    finally:
        await redis.aclose()
    assert keys
    assert not any(b"someone" in key for key in keys)


def test_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        Settings(_env_file=None, rate_limit_login_account="lots")
