"""The Redis client, when one is configured (the scaled-out shape)."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(url: str | None) -> Redis | None:
    if not url:
        return None
    return Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
        decode_responses=False,
    )
