"""Every statement the engine runs against the ``jobs`` table, one code path for both databases.

Claims run inside a writer transaction: ``BEGIN IMMEDIATE`` on SQLite (one writer at a time, so
the ``UPDATE … RETURNING`` is atomic) and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent
workers skip each other's rows). Every write that ends an attempt matches the worker's lease
(``lease_owner`` and the attempt number), so a worker that lost its lease cannot overwrite the
outcome of the attempt that replaced it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, literal_column, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.models.job import TERMINAL_STATUSES, Job, JobStatus

jobs: Table = Job.__table__  # type: ignore[assignment]
c = jobs.c
_TERMINAL = [status.value for status in TERMINAL_STATUSES]
MAX_ERROR_LENGTH = 2000
_QUEUED_LITERAL = c.status == literal_column("'queued'")
_RUNNING_LITERAL = c.status == literal_column("'running'")


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    owner_id: uuid.UUID | None
    run_at: datetime
    created_at: datetime

    @property
    def key(self) -> tuple[uuid.UUID, int]:
        return (self.id, self.attempt)


def _truncate(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LENGTH else message[: MAX_ERROR_LENGTH - 1] + "…"


async def claim_batch(
    session: AsyncSession,
    *,
    worker_id: str,
    kinds: Sequence[str],
    limit: int,
    lease_seconds: float,
    now: datetime,
) -> list[ClaimedJob]:
    """Claim up to ``limit`` due jobs of ``kinds``: ``running`` under this worker's lease."""
    if limit <= 0 or not kinds:
        return []
    candidates = (
        select(c.id)
        # A literal status, not a bound one: only then can both planners use the partial
        # claim index (its predicate is `status = 'queued'`).
        .where(_QUEUED_LITERAL, c.run_at <= now, c.kind.in_(kinds))
        .order_by(c.priority, c.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(jobs)
        .where(c.id.in_(candidates), c.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            attempts=c.attempts + 1,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            heartbeat_at=now,
            started_at=now,
            updated_at=now,
            cancel_requested=False,
        )
        .returning(
            c.id, c.kind, c.payload, c.attempts, c.max_attempts, c.owner_id, c.run_at, c.created_at
        )
    )
    rows = (await session.execute(statement)).all()
    claimed = [ClaimedJob(*row) for row in rows]
    claimed.sort(key=lambda job: job.run_at)
    return claimed


def _held_by(worker_id: str, keys: Iterable[tuple[uuid.UUID, int]]) -> list[Any]:
    keys = list(keys)
    return [
        # `id IN` lets both databases use the primary key; the pair check pins the attempt.
        c.id.in_([job_id for job_id, _attempt in keys]),
        tuple_(c.id, c.attempts).in_(keys),
        c.lease_owner == worker_id,
        c.status == JobStatus.RUNNING.value,
    ]


async def _end_attempts(
    session: AsyncSession,
    *,
    worker_id: str,
    keys: Sequence[tuple[uuid.UUID, int]],
    now: datetime,
    status: JobStatus,
    **values: Any,
) -> set[uuid.UUID]:
    """Move attempts this worker still holds to ``status``; returns the ids that counted."""
    if not keys:
        return set()
    statement = (
        update(jobs)
        .where(*_held_by(worker_id, keys))
        .values(
            status=status.value,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
            **values,
        )
        .returning(c.id)
    )
    return set((await session.scalars(statement)).all())


async def complete_succeeded(
    session: AsyncSession,
    *,
    worker_id: str,
    keys: Sequence[tuple[uuid.UUID, int]],
    now: datetime,
) -> set[uuid.UUID]:
    """Mark attempts without a result ``succeeded`` in one statement; returns those that counted."""
    return await _end_attempts(
        session,
        worker_id=worker_id,
        keys=keys,
        now=now,
        status=JobStatus.SUCCEEDED,
        progress=100,
        finished_at=now,
    )


async def complete_with_result(
    session: AsyncSession,
    *,
    worker_id: str,
    key: tuple[uuid.UUID, int],
    result: dict[str, Any],
    now: datetime,
) -> bool:
    ended = await _end_attempts(
        session,
        worker_id=worker_id,
        keys=[key],
        now=now,
        status=JobStatus.SUCCEEDED,
        result=result,
        progress=100,
        finished_at=now,
    )
    return bool(ended)


async def record_failure(
    session: AsyncSession,
    *,
    worker_id: str,
    job: ClaimedJob,
    error: str,
    permanent: bool,
    retry_delay: timedelta,
    now: datetime,
) -> JobStatus | None:
    """End a failed attempt: ``failed`` (permanent), ``dead`` (exhausted) or ``queued`` again."""
    if permanent:
        status = JobStatus.FAILED
    elif job.attempt >= job.max_attempts:
        status = JobStatus.DEAD
    else:
        status = JobStatus.QUEUED
    when: dict[str, Any] = (
        {"run_at": now + retry_delay} if status is JobStatus.QUEUED else {"finished_at": now}
    )
    ended = await _end_attempts(
        session,
        worker_id=worker_id,
        keys=[job.key],
        now=now,
        status=status,
        last_error=_truncate(error),
        **when,
    )
    return status if ended else None


async def record_cancelled(
    session: AsyncSession, *, worker_id: str, job: ClaimedJob, now: datetime
) -> bool:
    ended = await _end_attempts(
        session,
        worker_id=worker_id,
        keys=[job.key],
        now=now,
        status=JobStatus.CANCELLED,
        finished_at=now,
    )
    return bool(ended)


async def release(
    session: AsyncSession,
    *,
    worker_id: str,
    keys: Sequence[tuple[uuid.UUID, int]],
    now: datetime,
) -> set[uuid.UUID]:
    """Give claimed jobs back to the queue at once (shutdown); the attempt does not count."""
    return await _end_attempts(
        session,
        worker_id=worker_id,
        keys=keys,
        now=now,
        status=JobStatus.QUEUED,
        attempts=c.attempts - 1,
        run_at=now,
    )


async def heartbeat(
    session: AsyncSession,
    *,
    worker_id: str,
    keys: Sequence[tuple[uuid.UUID, int]],
    lease_seconds: float,
    now: datetime,
) -> dict[uuid.UUID, bool]:
    """Extend the leases still held; returns ``{job_id: cancel_requested}`` for those."""
    if not keys:
        return {}
    statement = (
        update(jobs)
        .where(*_held_by(worker_id, keys))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds), heartbeat_at=now)
        .returning(c.id, c.cancel_requested)
    )
    return {row.id: bool(row.cancel_requested) for row in (await session.execute(statement))}


async def set_progress(
    session: AsyncSession,
    *,
    worker_id: str,
    key: tuple[uuid.UUID, int],
    percent: int,
    message: str | None,
    now: datetime,
) -> bool:
    statement = (
        update(jobs)
        .where(*_held_by(worker_id, [key]))
        .values(progress=percent, progress_message=message, updated_at=now)
        .returning(c.cancel_requested)
    )
    return (await session.scalar(statement)) is not None


@dataclass(frozen=True, slots=True)
class ExpiredLease:
    id: uuid.UUID
    kind: str
    attempt: int
    max_attempts: int


async def expired_leases(session: AsyncSession, *, now: datetime, limit: int) -> list[ExpiredLease]:
    statement = (
        select(c.id, c.kind, c.attempts, c.max_attempts)
        .where(_RUNNING_LITERAL, c.lease_expires_at < now)
        .order_by(c.lease_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [ExpiredLease(*row) for row in (await session.execute(statement))]


async def reap(
    session: AsyncSession, *, lease: ExpiredLease, retry_delay: timedelta, now: datetime
) -> JobStatus | None:
    """Return one expired lease to the queue, or to ``dead`` when its attempts are exhausted."""
    dead = lease.attempt >= lease.max_attempts
    values: dict[str, Any] = {
        "status": (JobStatus.DEAD if dead else JobStatus.QUEUED).value,
        "last_error": "the worker's lease expired (worker lost or stalled)",
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
    }
    if dead:
        values["finished_at"] = now
    else:
        values["run_at"] = now + retry_delay
    statement = (
        update(jobs)
        .where(
            c.id == lease.id,
            c.attempts == lease.attempt,
            c.status == JobStatus.RUNNING.value,
            c.lease_expires_at < now,
        )
        .values(**values)
        .returning(c.id)
    )
    if (await session.scalar(statement)) is None:
        return None
    return JobStatus.DEAD if dead else JobStatus.QUEUED


async def purge_finished(session: AsyncSession, *, older_than: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` finished jobs that finished before ``older_than``."""
    victims = (
        select(c.id)
        .where(c.status.in_(_TERMINAL), c.finished_at < older_than)
        .order_by(c.finished_at)
        .limit(limit)
    )
    statement = delete(jobs).where(c.id.in_(victims)).returning(c.id)
    return len((await session.scalars(statement)).all())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    statement = select(c.status, func.count()).group_by(c.status)
    counts = {status.value: 0 for status in JobStatus}
    for status, count in await session.execute(statement):
        counts[status] = int(count)
    return counts


async def requeue(session: AsyncSession, *, job_id: uuid.UUID, now: datetime) -> bool:
    """A failed or dead job back to ``queued`` with a fresh set of attempts."""
    statement = (
        update(jobs)
        .where(
            c.id == job_id,
            c.status.in_([JobStatus.FAILED.value, JobStatus.DEAD.value]),
        )
        .values(
            status=JobStatus.QUEUED.value,
            attempts=0,
            run_at=now,
            progress=0,
            progress_message=None,
            result=None,
            finished_at=None,
            started_at=None,
            cancel_requested=False,
            updated_at=now,
        )
        .returning(c.id)
    )
    return (await session.scalar(statement)) is not None


async def cancel(session: AsyncSession, *, job_id: uuid.UUID, now: datetime) -> JobStatus | None:
    """Cancel a queued job at once, or ask a running one to stop; ``None`` when finished."""
    queued = (
        update(jobs)
        .where(c.id == job_id, c.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.CANCELLED.value, finished_at=now, updated_at=now)
        .returning(c.id)
    )
    if (await session.scalar(queued)) is not None:
        return JobStatus.CANCELLED
    running = (
        update(jobs)
        .where(c.id == job_id, c.status == JobStatus.RUNNING.value)
        .values(cancel_requested=True, updated_at=now)
        .returning(c.id)
    )
    if (await session.scalar(running)) is not None:
        return JobStatus.RUNNING
    return None
