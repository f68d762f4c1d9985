"""Job kinds used by the engine and API tests (registered on import)."""

from __future__ import annotations

import asyncio
from typing import Any

from dossier.jobs import JobContext, PermanentJobError, job_handler

# Running handlers of the slow kinds signal here, so tests await them instead of sleeping.
started: dict[str, asyncio.Event] = {}


def _started(ctx: JobContext) -> None:
    started.setdefault(str(ctx.job_id), asyncio.Event()).set()


def square(value: int) -> int:
    return value * value


@job_handler("test.noop")
async def noop(ctx: JobContext, payload: dict[str, Any]) -> None:
    return None


@job_handler("test.echo")
async def echo(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    await ctx.progress(50, "half way")
    return {"echo": payload, "attempt": ctx.attempt}


@job_handler("test.permanent")
async def permanent(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise PermanentJobError(payload.get("reason", "bad input"))


@job_handler("test.flaky", max_attempts=5)
async def flaky(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    if ctx.attempt < payload["succeed_on"]:
        raise RuntimeError(f"transient failure on attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}


@job_handler("test.poison", max_attempts=3)
async def poison(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise ValueError("cannot digest this payload")


@job_handler("test.timeout", max_attempts=2, timeout_seconds=0.2)
async def too_slow(ctx: JobContext, payload: dict[str, Any]) -> None:
    await asyncio.sleep(30)


@job_handler("test.cancellable")
async def cancellable(ctx: JobContext, payload: dict[str, Any]) -> None:
    _started(ctx)
    for _ in range(600):  # bounded: 30 s at most
        ctx.raise_if_cancelled()
        await asyncio.sleep(0.05)


@job_handler("test.wait")
async def wait(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Runs until its release event is set (or 10 s pass)."""
    _started(ctx)
    release = started.setdefault(f"release:{ctx.job_id}", asyncio.Event())
    async with asyncio.timeout(10):
        await release.wait()
    return {"released": True}


@job_handler("test.cpu")
async def cpu(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return {"square": await ctx.run_cpu(square, payload["value"])}


@job_handler("test.not_a_dict")
async def not_a_dict(ctx: JobContext, payload: dict[str, Any]) -> Any:
    return [1, 2, 3]
