"""Crash tests: standalone workers killed, poisoned and stopped, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter

import pytest

from dossier.db.engine import Database
from dossier.models.job import JobStatus
from tests.faults.conftest import (
    WorkerProcesses,
    all_terminal,
    effects,
    enqueue_jobs,
    eventually,
    jobs_by_id,
    runs,
)

pytestmark = [pytest.mark.usefixtures("fault_tables"), pytest.mark.slow]


async def test_sigkill_mid_job_reruns_after_lease_expiry_with_one_effect(
    database: Database, workers: WorkerProcesses
) -> None:
    [job_id] = await enqueue_jobs(database, "faults.effect", [{"hold_first_attempt": True}])
    first = workers.start(concurrency=2)

    async def first_attempt_running() -> bool:
        return any(run[0] == str(job_id) for run in await runs(database))

    await eventually(first_attempt_running, within=30, what="the first attempt to start")
    workers.kill(first)  # SIGKILL: no cleanup, the lease stays behind
    workers.start(concurrency=2)

    async def finished() -> bool:
        return all_terminal(await jobs_by_id(database, [job_id]), 1)

    await eventually(finished, within=30, what="the job to be re-run")
    job = (await jobs_by_id(database, [job_id]))[job_id]
    assert job.status == JobStatus.SUCCEEDED.value
    assert job.attempts == 2
    attempts = sorted(run[1] for run in await runs(database) if run[0] == str(job_id))
    assert attempts == [1, 2]
    assert await effects(database) == [str(job_id)]  # the effect happened exactly once
    assert job.result is not None
    assert job.result["pid"] != first.pid


async def test_200_jobs_survive_three_random_kills(
    database: Database, workers: WorkerProcesses
) -> None:
    ids = await enqueue_jobs(database, "faults.effect", [{"work_seconds": 0.1}] * 200)
    live = [workers.start(concurrency=4), workers.start(concurrency=4)]
    rng = random.Random(7)

    async def some_progress() -> bool:
        return len(await runs(database)) > 0

    for _ in range(3):
        await eventually(some_progress, within=30, what="workers to run jobs")
        await asyncio.sleep(rng.uniform(0.2, 0.6))
        victim = live.pop(rng.randrange(len(live)))
        workers.kill(victim)
        live.append(workers.start(concurrency=4))

    async def finished() -> bool:
        return all_terminal(await jobs_by_id(database, ids), len(ids))

    await eventually(finished, within=60, what="all 200 jobs to finish", interval=0.2)
    jobs = await jobs_by_id(database, ids)
    assert {job.status for job in jobs.values()} == {JobStatus.SUCCEEDED.value}  # none lost
    recorded = Counter(await effects(database))
    assert set(recorded) == {str(job_id) for job_id in ids}
    assert max(recorded.values()) == 1  # none recorded twice
    assert len(await runs(database)) > 200  # the kills did interrupt jobs, which ran again


async def test_poison_job_ends_dead_with_its_last_error(
    database: Database, workers: WorkerProcesses
) -> None:
    [job_id] = await enqueue_jobs(database, "faults.poison", [{}])
    workers.start(concurrency=1)

    async def finished() -> bool:
        return all_terminal(await jobs_by_id(database, [job_id]), 1)

    await eventually(finished, within=30, what="the poison job to die")
    job = (await jobs_by_id(database, [job_id]))[job_id]
    assert job.status == JobStatus.DEAD.value
    assert job.attempts == 3
    assert job.last_error == "RuntimeError: poison pill (attempt 3)"
    assert len(await runs(database)) == 3


async def test_sigterm_drains_running_jobs_and_releases_unstarted_ones(
    database: Database, workers: WorkerProcesses
) -> None:
    ids = await enqueue_jobs(database, "faults.sleep", [{"seconds": 1.0}] * 4)
    process = workers.start(concurrency=1, DOSSIER_JOB_PREFETCH="3")

    async def one_running() -> list[tuple[str, int, int]]:
        return await runs(database)

    [(running_id, _, _)] = await eventually(one_running, within=30, what="a job to start")

    async def all_claimed() -> bool:
        jobs = await jobs_by_id(database, ids)
        return all(job.status == JobStatus.RUNNING.value for job in jobs.values())

    await eventually(all_claimed, within=10, what="the prefetch to claim the rest")
    process.send_signal(signal.SIGTERM)
    assert await workers.wait_exit(process, within=20) == 0

    jobs = await jobs_by_id(database, ids)
    for job_id, job in jobs.items():
        if str(job_id) == running_id:
            assert job.status == JobStatus.SUCCEEDED.value  # finished within the grace period
        else:
            assert job.status == JobStatus.QUEUED.value  # released, not left running
            assert job.attempts == 0
            assert job.lease_owner is None
    assert await effects(database) == [running_id]


async def test_second_sigterm_releases_running_jobs_at_once(
    database: Database, workers: WorkerProcesses
) -> None:
    [job_id] = await enqueue_jobs(database, "faults.sleep", [{"seconds": 60}])
    process = workers.start(concurrency=1)

    async def started() -> bool:
        return bool(await runs(database))

    await eventually(started, within=30, what="the job to start")
    process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert await workers.wait_exit(process, within=10) == 0
    job = (await jobs_by_id(database, [job_id]))[job_id]
    assert job.status == JobStatus.QUEUED.value
    assert job.attempts == 0
    assert job.lease_owner is None
    assert await effects(database) == []
