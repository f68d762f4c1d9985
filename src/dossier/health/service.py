"""Readiness: each dependency checked with a short deadline, concurrently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from dossier.health.schemas import DependencyCheck, Readiness

logger = structlog.get_logger("dossier.health")

CHECK_TIMEOUT_SECONDS = 2.0


async def _run_check(name: str, check: Callable[[], Awaitable[object]]) -> DependencyCheck:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.warning("readiness_check_failed", dependency=name, reason="timeout")
        return DependencyCheck(status="down", error="timed out")
    except Exception as exc:
        logger.warning("readiness_check_failed", dependency=name, reason=type(exc).__name__)
        return DependencyCheck(status="down", error="unreachable")
    return DependencyCheck(status="ok", latency_ms=round((time.perf_counter() - start) * 1000, 2))


async def check_readiness(checks: dict[str, Callable[[], Awaitable[object]]]) -> Readiness:
    names = list(checks)
    results = await asyncio.gather(*(_run_check(name, checks[name]) for name in names))
    by_name = dict(zip(names, results, strict=True))
    status = "ok" if all(result.status == "ok" for result in results) else "down"
    return Readiness(status=status, checks=by_name)
