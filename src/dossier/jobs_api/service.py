"""Rules of the jobs API: who may see, retry and cancel which job."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.core.clock import utcnow
from dossier.core.errors import Forbidden
from dossier.core.pagination import CursorCodec, PageParams, PageResult
from dossier.db.engine import Database
from dossier.jobs import queue
from dossier.jobs_api import repository
from dossier.jobs_api.errors import JobNotCancellable, JobNotFound, JobNotRetryable
from dossier.models.job import Job, JobStatus


def job_etag(job: Job) -> str:
    """A strong ETag; jobs have no version counter, so it hashes what a reader can see change."""
    fingerprint = (
        f"{job.updated_at.isoformat()}:{job.status}:{job.attempts}:{job.progress}:"
        f"{job.cancel_requested}"
    )
    return f'"{job.id.hex}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}"'


async def get_job(session: AsyncSession, principal: Principal, *, job_id: uuid.UUID) -> Job:
    job = await repository.get_readable(session, principal, job_id)
    if job is None:
        raise JobNotFound()
    return job


async def list_my_jobs(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    sort: str,
    params: PageParams,
    codec: CursorCodec,
) -> PageResult[Job]:
    return await repository.page_owned(
        session,
        principal,
        status=status,
        kind=kind,
        order=repository.JOB_SORTING.parse(sort),
        params=params,
        codec=codec,
    )


async def list_all_jobs(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    params: PageParams,
    codec: CursorCodec,
) -> PageResult[Job]:
    return await repository.page_all_dead_first(
        session, status=status, kind=kind, params=params, codec=codec
    )


def _ensure_may_change(principal: Principal, job: Job) -> None:
    # Moderators read every job but change only their own; admins change any.
    if principal.is_admin or job.owner_id == principal.user_id:
        return
    raise Forbidden("Only the job's owner or an admin may change it.")


async def retry_job(session: AsyncSession, principal: Principal, *, job_id: uuid.UUID) -> Job:
    job = await get_job(session, principal, job_id=job_id)
    _ensure_may_change(principal, job)
    if not await queue.requeue(session, job_id=job.id, now=utcnow()):
        raise JobNotRetryable(f"The job is {job.status}; only failed or dead jobs can be retried.")
    refreshed = await repository.get_by_id(session, job.id)
    assert refreshed is not None
    return refreshed


async def cancel_job(session: AsyncSession, principal: Principal, *, job_id: uuid.UUID) -> Job:
    job = await get_job(session, principal, job_id=job_id)
    _ensure_may_change(principal, job)
    if await queue.cancel(session, job_id=job.id, now=utcnow()) is None:
        raise JobNotCancellable(f"The job is {job.status}; it can no longer be cancelled.")
    refreshed = await repository.get_by_id(session, job.id)
    assert refreshed is not None
    return refreshed


async def follow_job(
    database: Database,
    *,
    job_id: uuid.UUID,
    poll_interval: float,
    keepalive: float,
    max_seconds: float,
) -> AsyncIterator[Job | None]:
    """Yield the job whenever it changed, ``None`` as a keep-alive tick; stop when it ends.

    The caller checked visibility before; each look is one read without a transaction on a
    pooled connection, so a long stream holds no connection between looks.
    """
    started = time.monotonic()
    last_sent = started
    last_seen: tuple[object, ...] | None = None
    while True:
        async with database.reader_sessionmaker() as session:
            job = await repository.get_by_id(session, job_id)
        if job is None:
            return
        seen = (job.status, job.progress, job.progress_message, job.attempts, job.updated_at)
        now = time.monotonic()
        if seen != last_seen:
            last_seen = seen
            last_sent = now
            yield job
        elif now - last_sent >= keepalive:
            last_sent = now
            yield None
        if JobStatus(job.status).is_terminal or now - started >= max_seconds:
            return
        await asyncio.sleep(poll_interval)
