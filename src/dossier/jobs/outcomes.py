"""Ending attempts: how a finished, failed, cancelled or released attempt is written.

A worker writes the outcomes it collected in the same transaction as its next claim, so one
transaction both completes a batch and takes the next one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.jobs import metrics, queue

logger = structlog.get_logger("dossier.jobs")

OutcomeKind = Literal["succeeded", "failed", "cancelled", "released"]


@dataclass(slots=True, eq=False)
class Outcome:
    job: queue.ClaimedJob
    kind: OutcomeKind
    result: dict[str, Any] | None = None
    error: str | None = None
    permanent: bool = False
    retry_delay: timedelta = field(default_factory=timedelta)


async def write_outcomes(
    session: AsyncSession, *, worker_id: str, batch: list[Outcome], now: datetime
) -> dict[uuid.UUID, str]:
    """Write ``batch``; returns ``{job_id: new status}`` for the attempts whose lease held."""
    written: dict[uuid.UUID, str] = {}
    plain = [o for o in batch if o.kind == "succeeded" and o.result is None]
    released = [o for o in batch if o.kind == "released"]
    if plain:
        for job_id in await queue.complete_succeeded(
            session, worker_id=worker_id, keys=[o.job.key for o in plain], now=now
        ):
            written[job_id] = "succeeded"
    if released:
        for job_id in await queue.release(
            session, worker_id=worker_id, keys=[o.job.key for o in released], now=now
        ):
            written[job_id] = "released"
    for outcome in batch:
        if outcome.kind == "released" or (outcome.kind == "succeeded" and outcome.result is None):
            continue
        status = await _write_single(session, worker_id, outcome, now)
        if status is not None:
            written[outcome.job.id] = status
    return written


async def _write_single(
    session: AsyncSession, worker_id: str, outcome: Outcome, now: datetime
) -> str | None:
    job = outcome.job
    if outcome.kind == "succeeded":
        assert outcome.result is not None
        ok = await queue.complete_with_result(
            session, worker_id=worker_id, key=job.key, result=outcome.result, now=now
        )
        return "succeeded" if ok else None
    if outcome.kind == "cancelled":
        ok = await queue.record_cancelled(session, worker_id=worker_id, job=job, now=now)
        return "cancelled" if ok else None
    status = await queue.record_failure(
        session,
        worker_id=worker_id,
        job=job,
        error=outcome.error or "failed",
        permanent=outcome.permanent,
        retry_delay=outcome.retry_delay,
        now=now,
    )
    return status.value if status is not None else None


_COUNTERS = {
    "succeeded": metrics.JOBS_SUCCEEDED,
    "failed": metrics.JOBS_FAILED,
    "dead": metrics.JOBS_DEAD,
    "queued": metrics.JOBS_RETRIED,
    "cancelled": metrics.JOBS_CANCELLED,
    "released": metrics.JOBS_RELEASED,
}


def count_outcomes(batch: list[Outcome], written: dict[uuid.UUID, str]) -> None:
    for outcome in batch:
        kind = outcome.job.kind
        status = written.get(outcome.job.id)
        if status is None:
            metrics.JOBS_LEASE_LOST.labels(kind).inc()
            logger.warning("job_lease_lost", job_id=str(outcome.job.id), kind=kind)
            continue
        _COUNTERS[status].labels(kind).inc()
        if status == "dead":
            logger.error("job_dead", job_id=str(outcome.job.id), kind=kind, error=outcome.error)
