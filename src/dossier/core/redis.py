"""The Redis client, when one is configured (the scaled-out shape)."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(url: str | None, *, timeout: float = 2.0) -> Redis | None:
    if not url:
        return None
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        decode_responses=False,
    )
