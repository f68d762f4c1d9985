"""Fixtures for engine tests: fast worker settings and a helper to await job states."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import tests.jobs.kinds  # noqa: F401  (registers the test kinds)
from dossier.config import Settings
from dossier.db.engine import Database
from dossier.jobs import Worker
from dossier.models.job import Job, JobStatus

FAST = {
    "job_poll_interval": 0.05,
    "job_lease_seconds": 2.0,
    "job_heartbeat_seconds": 0.2,
    "job_reaper_interval": 0.1,
    "job_backoff_base_seconds": 0.0,
    "job_backoff_max_seconds": 0.0,
    "job_shutdown_grace_seconds": 5.0,
}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**FAST)


@pytest.fixture
async def worker(database: Database, settings: Settings) -> AsyncIterator[Worker]:
    running = Worker(database=database, settings=settings, concurrency=4)
    await running.start()
    try:
        yield running
    finally:
        await running.stop(grace=1)


async def wait_for_job(
    database: Database,
    job_id: uuid.UUID,
    condition: Callable[[Job], bool] | None = None,
    *,
    within: float = 15.0,
) -> Job:
    """Poll until the job satisfies ``condition`` (default: a terminal status); bounded."""

    def finished(job: Job) -> bool:
        return JobStatus(job.status).is_terminal

    check = condition or finished
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with database.sessionmaker() as session:
            job = await session.get(Job, job_id)
        if job is not None and check(job):
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} did not reach the state: {job!r}")
        await asyncio.sleep(0.02)


async def add_job(database: Database, **values: Any) -> Job:
    from dossier.jobs import enqueue

    async with database.writer_sessionmaker() as session, session.begin():
        return await enqueue(session, **values)
