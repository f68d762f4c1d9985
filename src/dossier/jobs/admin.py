"""Operator actions behind ``dossier jobs …`` (no principal: the operator owns the machine)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import case, select

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database, create_database
from dossier.jobs import queue
from dossier.jobs.maintenance import purge_finished_before
from dossier.models.job import Job, JobStatus


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    database = create_database(settings)
    try:
        yield database
    finally:
        await database.dispose()


async def list_jobs(
    settings: Settings, *, status: str | None, kind: str | None, limit: int
) -> Sequence[Job]:
    statement = select(Job)
    if status:
        statement = statement.where(Job.status == status)
    if kind:
        statement = statement.where(Job.kind == kind)
    dead_first = case((Job.status == JobStatus.DEAD.value, 0), else_=1)
    statement = statement.order_by(dead_first, Job.created_at.desc(), Job.id.desc()).limit(limit)
    async with _database(settings) as database, database.sessionmaker() as session:
        return (await session.scalars(statement)).all()


async def show_job(settings: Settings, job_id: uuid.UUID) -> Job | None:
    async with _database(settings) as database, database.sessionmaker() as session:
        return await session.get(Job, job_id)


def job_as_dict(job: Job) -> dict[str, Any]:
    return {column.key: getattr(job, column.key) for column in Job.__table__.columns}


async def retry_job(settings: Settings, job_id: uuid.UUID) -> bool:
    async with (
        _database(settings) as database,
        database.writer_sessionmaker() as session,
        session.begin(),
    ):
        return await queue.requeue(session, job_id=job_id, now=utcnow())


async def purge_jobs(settings: Settings, *, older_than_days: float) -> int:
    async with _database(settings) as database:
        return await purge_finished_before(database, utcnow() - timedelta(days=older_than_days))
