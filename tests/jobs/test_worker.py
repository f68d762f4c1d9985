"""The worker loop: outcomes, retries, dead letters, time limits, cancel, CPU pool, wake-ups."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import insert, text

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.base import new_id
from dossier.db.engine import Database
from dossier.jobs import Worker, metrics, queue
from dossier.models.job import Job, JobStatus
from tests.jobs import kinds
from tests.jobs.conftest import FAST, add_job, wait_for_job


async def test_success_stores_the_result_and_progress(database: Database, worker: Worker) -> None:
    before = metrics.JOBS_SUCCEEDED.labels("test.echo")._value.get()
    job = await add_job(database, kind="test.echo", payload={"hello": "world"})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.SUCCEEDED.value
    assert done.result == {"echo": {"hello": "world"}, "attempt": 1}
    assert done.attempts == 1
    assert done.progress == 100
    assert done.progress_message == "half way"
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.lease_owner is None
    assert done.lease_expires_at is None
    assert metrics.JOBS_SUCCEEDED.labels("test.echo")._value.get() == before + 1


async def test_many_noop_jobs_complete_in_batches(database: Database, worker: Worker) -> None:
    jobs = [await add_job(database, kind="test.noop", payload={"i": i}) for i in range(30)]
    for job in jobs:
        done = await wait_for_job(database, job.id)
        assert done.status == JobStatus.SUCCEEDED.value
        assert done.attempts == 1


async def test_permanent_error_fails_at_once_with_the_reason(
    database: Database, worker: Worker
) -> None:
    job = await add_job(database, kind="test.permanent", payload={"reason": "encrypted PDF"})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.FAILED.value
    assert done.attempts == 1
    assert done.last_error == "PermanentJobError: encrypted PDF"


async def test_retryable_errors_back_off_until_success(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.flaky", payload={"succeed_on": 3})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.SUCCEEDED.value
    assert done.attempts == 3
    assert done.result == {"attempt": 3}
    assert done.last_error == "RuntimeError: transient failure on attempt 2"


async def test_poison_job_is_dead_after_max_attempts(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.poison", payload={})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.DEAD.value
    assert done.attempts == 3
    assert done.last_error == "ValueError: cannot digest this payload"
    assert done.finished_at is not None


async def test_time_limit_fails_an_overrunning_attempt(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.timeout", payload={})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.DEAD.value
    assert done.attempts == 2
    assert done.last_error == "timed out after 0.2 s"


async def test_non_dict_result_fails_permanently(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.not_a_dict", payload={})
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.FAILED.value
    assert "not a dict" in (done.last_error or "")


async def test_cpu_work_runs_in_the_process_pool(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.cpu", payload={"value": 12})
    done = await wait_for_job(database, job.id, within=60)
    assert done.status == JobStatus.SUCCEEDED.value
    assert done.result == {"square": 144}


async def test_cooperative_cancel_of_a_running_job(database: Database, worker: Worker) -> None:
    job = await add_job(database, kind="test.cancellable", payload={})
    await asyncio.wait_for(kinds.started.setdefault(str(job.id), asyncio.Event()).wait(), 10)
    async with database.writer_sessionmaker() as session, session.begin():
        assert await queue.cancel(session, job_id=job.id, now=utcnow()) is JobStatus.RUNNING
    done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.CANCELLED.value
    assert done.finished_at is not None


async def test_in_process_enqueue_wakes_an_idle_worker(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    # Polling every 60 s: only the in-process wake-up can start the job within the bound.
    settings = make_settings(**{**FAST, "job_poll_interval": 60.0, "job_notify": False})
    idle = Worker(database=database, settings=settings, concurrency=1)
    await idle.start()
    try:
        await asyncio.sleep(0.1)  # let the claim loop reach its idle wait
        job = await add_job(database, kind="test.noop", payload={})
        done = await wait_for_job(database, job.id, within=10)
        assert done.status == JobStatus.SUCCEEDED.value
    finally:
        await idle.stop(grace=1)


async def _insert_as_another_process(database: Database, *, notify: bool) -> uuid.UUID:
    """A queued job written without enqueue(): no in-process wake-up (and NOTIFY if asked)."""
    job_id = new_id()
    now = utcnow()
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Job).values(
                id=job_id,
                kind="test.noop",
                payload={},
                status="queued",
                priority=0,
                run_at=now,
                attempts=0,
                max_attempts=1,
                cancel_requested=False,
                progress=0,
                created_at=now,
                updated_at=now,
            )
        )
        if notify:
            await connection.execute(text("SELECT pg_notify('dossier_jobs', '')"))
    return job_id


async def test_polling_finds_jobs_without_any_wake_up(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**{**FAST, "job_notify": False})
    polling = Worker(database=database, settings=settings, concurrency=1)
    await polling.start()
    try:
        await asyncio.sleep(0.1)  # idle
        job_id = await _insert_as_another_process(database, notify=False)
        done = await wait_for_job(database, job_id, within=10)
        assert done.status == JobStatus.SUCCEEDED.value
    finally:
        await polling.stop(grace=1)


@pytest.mark.postgres
async def test_notify_wakes_an_idle_worker_on_postgres(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**{**FAST, "job_poll_interval": 60.0})
    idle = Worker(database=database, settings=settings, concurrency=1)
    await idle.start()
    try:
        await asyncio.sleep(0.3)  # the LISTEN connection is up and the loop is idle
        job_id = await _insert_as_another_process(database, notify=True)
        done = await wait_for_job(database, job_id, within=10)
        assert done.status == JobStatus.SUCCEEDED.value
    finally:
        await idle.stop(grace=1)


async def test_shutdown_releases_unstarted_and_lets_running_finish(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**{**FAST, "job_prefetch": 5})
    draining = Worker(database=database, settings=settings, concurrency=1)
    running = await add_job(database, kind="test.wait", payload={})
    waiting = [await add_job(database, kind="test.wait", payload={}) for _ in range(3)]
    await draining.start()
    # Claims run in due order and concurrency is 1: the first job runs, the others wait.
    await asyncio.wait_for(kinds.started.setdefault(str(running.id), asyncio.Event()).wait(), 10)
    stop = asyncio.create_task(draining.stop(grace=10))
    await asyncio.sleep(0.1)  # shutdown has begun while the job is still running
    kinds.started.setdefault(f"release:{running.id}", asyncio.Event()).set()
    await stop
    done = await wait_for_job(database, running.id)
    assert done.status == JobStatus.SUCCEEDED.value
    for job in waiting:
        released = await wait_for_job(database, job.id, lambda j: True)
        assert released.status == JobStatus.QUEUED.value
        assert released.attempts == 0
        assert released.lease_owner is None


async def test_shutdown_deadline_releases_running_jobs(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**FAST)
    draining = Worker(database=database, settings=settings, concurrency=1)
    job = await add_job(database, kind="test.wait", payload={})
    await draining.start()
    await asyncio.wait_for(kinds.started.setdefault(str(job.id), asyncio.Event()).wait(), 10)
    await draining.stop(grace=0.1)
    released = await wait_for_job(database, job.id, lambda j: True)
    assert released.status == JobStatus.QUEUED.value
    assert released.attempts == 0


async def test_serve_runs_workers_in_the_api_process(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    from asgi_lifespan import LifespanManager

    from dossier.app import create_app

    app = create_app(make_settings(**{**FAST, "worker_concurrency": 2}), configure_logs=False)
    async with LifespanManager(app):
        assert app.state.worker is not None
        job = await add_job(database, kind="test.echo", payload={"from": "api"})
        done = await wait_for_job(database, job.id)
    assert done.status == JobStatus.SUCCEEDED.value
    assert app.state.worker._stopped
