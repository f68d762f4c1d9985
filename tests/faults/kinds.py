"""Job kinds for the crash tests, imported by standalone workers (DOSSIER_JOB_MODULES).

Every run is recorded in ``fault_runs`` (append-only), and the job's effect in
``fault_effects`` the way a real handler makes its effect idempotent: insert only when absent,
in its own unit of work. The tests then count runs (re-runs happened) and effects (each once).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy import text

from dossier.jobs import JobContext, job_handler

RUNS_TABLE = "fault_runs"
EFFECTS_TABLE = "fault_effects"


async def _record_run(ctx: JobContext) -> None:
    async with ctx.database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            text(f"INSERT INTO {RUNS_TABLE} (job_id, attempt, pid) VALUES (:job, :attempt, :pid)"),
            {"job": str(ctx.job_id), "attempt": ctx.attempt, "pid": os.getpid()},
        )


async def _record_effect(ctx: JobContext) -> None:
    async with ctx.database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            text(
                f"INSERT INTO {EFFECTS_TABLE} (job_id) SELECT CAST(:job AS VARCHAR(40)) "
                f"WHERE NOT EXISTS (SELECT 1 FROM {EFFECTS_TABLE} WHERE job_id = :job)"
            ),
            {"job": str(ctx.job_id)},
        )


@job_handler("faults.effect", max_attempts=20, timeout_seconds=60)
async def effect(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    await _record_run(ctx)
    if payload.get("hold_first_attempt") and ctx.attempt == 1:
        await asyncio.sleep(60)  # the test kills the worker during this
    await asyncio.sleep(float(payload.get("work_seconds", 0)))
    await _record_effect(ctx)
    return {"pid": os.getpid()}


@job_handler("faults.poison", max_attempts=3, backoff_base_seconds=0)
async def poison(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _record_run(ctx)
    raise RuntimeError(f"poison pill (attempt {ctx.attempt})")


@job_handler("faults.sleep", max_attempts=5, timeout_seconds=120)
async def sleep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    await _record_run(ctx)
    await asyncio.sleep(float(payload["seconds"]))
    await _record_effect(ctx)
    return {"slept": payload["seconds"]}
