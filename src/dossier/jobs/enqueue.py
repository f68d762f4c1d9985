"""Enqueue: an INSERT in the caller's own transaction, plus wake-ups once it commits."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dossier.core.clock import utcnow
from dossier.db.base import new_id
from dossier.jobs import metrics
from dossier.jobs.registry import get_kind
from dossier.models.job import Job, JobStatus

NOTIFY_CHANNEL = "dossier_jobs"
_PENDING_WAKEUP = "dossier.jobs.pending_wakeup"
_NOTIFIED = "dossier.jobs.notified"
DEFAULT_MAX_ATTEMPTS = 5

# Workers in this process; an enqueue that commits here wakes them without a round trip.
_local_wakers: weakref.WeakSet[_Waker] = weakref.WeakSet()
_default_max_attempts = DEFAULT_MAX_ATTEMPTS


class _Waker:
    def __init__(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        self.loop = loop
        self.wake = wake

    def __call__(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.wake)


def add_local_waker(loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> _Waker:
    waker = _Waker(loop, wake)
    _local_wakers.add(waker)
    return waker


def remove_local_waker(waker: _Waker) -> None:
    _local_wakers.discard(waker)


def set_default_max_attempts(value: int) -> None:
    """The ``DOSSIER_JOB_MAX_ATTEMPTS`` fallback for kinds without their own (set at startup)."""
    global _default_max_attempts
    _default_max_attempts = value


@event.listens_for(Session, "after_commit")
def _wake_local_workers(session: Session) -> None:
    if session.info.pop(_PENDING_WAKEUP, False):
        for waker in list(_local_wakers):
            waker()
    session.info.pop(_NOTIFIED, None)


@event.listens_for(Session, "after_rollback")
def _forget_wakeup(session: Session) -> None:
    session.info.pop(_PENDING_WAKEUP, None)
    session.info.pop(_NOTIFIED, None)


async def _announce(session: AsyncSession) -> None:
    session.info[_PENDING_WAKEUP] = True
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and not session.info.get(_NOTIFIED):
        # NOTIFY is transactional: listeners hear it when (and only if) this commits.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        session.info[_NOTIFIED] = True


def _values(
    *,
    kind: str,
    payload: dict[str, Any],
    owner_id: uuid.UUID | None,
    dedupe_key: str | None,
    priority: int,
    run_at: datetime | None,
    max_attempts: int | None,
    now: datetime,
) -> dict[str, Any]:
    spec = get_kind(kind)
    attempts = max_attempts or spec.max_attempts or _default_max_attempts
    if attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return {
        "id": new_id(),
        "kind": kind,
        "payload": payload,
        "status": JobStatus.QUEUED.value,
        "priority": priority,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": attempts,
        "cancel_requested": False,
        "progress": 0,
        "dedupe_key": dedupe_key,
        "owner_id": owner_id,
        "created_at": now,
        "updated_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    owner_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    priority: int = 0,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job in the caller's unit of work; it runs only if that transaction commits.

    ``priority``: lower runs first (0 is the default). With a ``dedupe_key``, a job that already
    exists for the same (kind, owner, key) is returned instead of a new one.
    """
    values = _values(
        kind=kind,
        payload=payload,
        owner_id=owner_id,
        dedupe_key=dedupe_key,
        priority=priority,
        run_at=run_at,
        max_attempts=max_attempts,
        now=utcnow(),
    )
    if dedupe_key is None:
        job = Job(**values)
        session.add(job)
        await session.flush()
    else:
        dialect = session.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = upsert(Job).values(**values).on_conflict_do_nothing().returning(Job.id)
        inserted = (await session.execute(statement)).scalar_one_or_none()
        if inserted is None:
            existing = await session.scalar(
                select(Job).where(
                    Job.kind == kind,
                    Job.dedupe_key == dedupe_key,
                    Job.owner_id.is_(None) if owner_id is None else Job.owner_id == owner_id,
                )
            )
            if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
                raise RuntimeError("dedupe conflict without an existing job")
            return existing
        job = await session.get_one(Job, inserted)
    metrics.JOBS_ENQUEUED.labels(kind).inc()
    await _announce(session)
    return job


async def enqueue_many(
    session: AsyncSession,
    *,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    owner_id: uuid.UUID | None = None,
    priority: int = 0,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> list[uuid.UUID]:
    """Add many jobs of one kind in one statement (fan-out); returns their ids."""
    if not payloads:
        return []
    now = utcnow()
    rows = [
        _values(
            kind=kind,
            payload=payload,
            owner_id=owner_id,
            dedupe_key=None,
            priority=priority,
            run_at=run_at,
            max_attempts=max_attempts,
            now=now,
        )
        for payload in payloads
    ]
    await session.execute(insert(Job).execution_options(render_nulls=True), rows)
    metrics.JOBS_ENQUEUED.labels(kind).inc(len(rows))
    await _announce(session)
    return [row["id"] for row in rows]
