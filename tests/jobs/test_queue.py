"""Claim, lease, reaper and retention statements against the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.jobs import queue
from dossier.jobs.maintenance import purge_expired, reap_expired, refresh_queue_depth
from dossier.models.job import Job, JobStatus
from tests.jobs.conftest import add_job, wait_for_job


async def _claim(
    database: Database, worker_id: str, limit: int, lease: float = 30
) -> list[queue.ClaimedJob]:
    async with database.writer_sessionmaker() as session, session.begin():
        return await queue.claim_batch(
            session,
            worker_id=worker_id,
            kinds=["test.noop", "test.echo"],
            limit=limit,
            lease_seconds=lease,
            now=utcnow(),
        )


async def _expire(database: Database, job_id: object) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_claims_in_priority_then_due_order_up_to_the_batch(database: Database) -> None:
    low = await add_job(database, kind="test.noop", payload={}, priority=5)
    first = await add_job(database, kind="test.noop", payload={})
    second = await add_job(database, kind="test.echo", payload={})
    later = await add_job(
        database, kind="test.noop", payload={}, run_at=utcnow() + timedelta(hours=1)
    )
    await add_job(database, kind="test.poison", payload={})  # a kind this worker does not run
    claimed = await _claim(database, "w1", limit=2)
    assert [job.id for job in claimed] == [first.id, second.id]
    assert all(job.attempt == 1 for job in claimed)
    rest = await _claim(database, "w1", limit=10)
    assert [job.id for job in rest] == [low.id]
    assert later.id not in {job.id for job in rest}


async def test_concurrent_claims_never_overlap(database: Database) -> None:
    for i in range(40):
        await add_job(database, kind="test.noop", payload={"i": i})
    batches = await asyncio.gather(*(_claim(database, f"w{n}", limit=7) for n in range(8)))
    ids = [job.id for batch in batches for job in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_completion_counts_only_while_the_lease_is_held(database: Database) -> None:
    await add_job(database, kind="test.noop", payload={})
    [stale] = await _claim(database, "w1", limit=1)
    await _expire(database, stale.id)
    settings = Settings(_env_file=None, job_backoff_base_seconds=0)
    assert await reap_expired(database, settings) == 1
    [fresh] = await _claim(database, "w2", limit=1)
    assert fresh.id == stale.id
    assert fresh.attempt == 2
    async with database.writer_sessionmaker() as session, session.begin():
        late = await queue.complete_succeeded(
            session, worker_id="w1", keys=[stale.key], now=utcnow()
        )
        again = await queue.complete_succeeded(
            session, worker_id="w2", keys=[stale.key], now=utcnow()
        )
    assert late == set()
    assert again == set()  # right worker, wrong attempt
    async with database.writer_sessionmaker() as session, session.begin():
        done = await queue.complete_succeeded(
            session, worker_id="w2", keys=[fresh.key], now=utcnow()
        )
    assert done == {fresh.id}


async def test_reaper_requeues_or_buries_expired_leases(database: Database) -> None:
    retry = await add_job(database, kind="test.noop", payload={}, max_attempts=2)
    last = await add_job(database, kind="test.echo", payload={}, max_attempts=1)
    await _claim(database, "lost-worker", limit=2)
    await _expire(database, retry.id)
    await _expire(database, last.id)
    settings = Settings(_env_file=None, job_backoff_base_seconds=0)
    assert await reap_expired(database, settings) == 2
    requeued = await wait_for_job(database, retry.id, lambda j: True)
    dead = await wait_for_job(database, last.id, lambda j: True)
    assert requeued.status == JobStatus.QUEUED.value
    assert requeued.lease_owner is None
    assert dead.status == JobStatus.DEAD.value
    assert "lease expired" in (dead.last_error or "")


async def test_heartbeat_extends_held_leases_and_reports_cancel(database: Database) -> None:
    await add_job(database, kind="test.noop", payload={})
    [job] = await _claim(database, "w1", limit=1, lease=1)
    async with database.writer_sessionmaker() as session, session.begin():
        await queue.cancel(session, job_id=job.id, now=utcnow())
    async with database.writer_sessionmaker() as session, session.begin():
        alive = await queue.heartbeat(
            session, worker_id="w1", keys=[job.key], lease_seconds=600, now=utcnow()
        )
        foreign = await queue.heartbeat(
            session, worker_id="w2", keys=[job.key], lease_seconds=600, now=utcnow()
        )
    assert alive == {job.id: True}
    assert foreign == {}
    stored = await wait_for_job(database, job.id, lambda j: True)
    assert stored.lease_expires_at is not None
    assert stored.lease_expires_at > utcnow() + timedelta(seconds=500)


async def test_retention_purges_only_old_finished_jobs(database: Database) -> None:
    old = await add_job(database, kind="test.noop", payload={})
    recent = await add_job(database, kind="test.noop", payload={})
    queued = await add_job(database, kind="test.noop", payload={})
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == old.id)
            .values(status="succeeded", finished_at=utcnow() - timedelta(days=30))
        )
        await session.execute(
            update(Job).where(Job.id == recent.id).values(status="dead", finished_at=utcnow())
        )
        await session.execute(
            update(Job).where(Job.id == queued.id).values(created_at=utcnow() - timedelta(days=90))
        )
    settings = Settings(_env_file=None, job_retention_days=14)
    assert await purge_expired(database, settings) == 1
    keep = Settings(_env_file=None, job_retention_days=0)
    assert await purge_expired(database, keep) == 0
    counts = await refresh_queue_depth(database)
    assert counts["dead"] == 1
    assert counts["queued"] == 1
    assert counts["succeeded"] == 0


async def test_requeue_only_failed_or_dead(database: Database) -> None:
    job = await add_job(database, kind="test.noop", payload={})
    async with database.writer_sessionmaker() as session, session.begin():
        assert not await queue.requeue(session, job_id=job.id, now=utcnow())
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(status="dead", attempts=5, finished_at=utcnow(), last_error="boom")
        )
    async with database.writer_sessionmaker() as session, session.begin():
        assert await queue.requeue(session, job_id=job.id, now=utcnow())
    stored = await wait_for_job(database, job.id, lambda j: True)
    assert stored.status == JobStatus.QUEUED.value
    assert stored.attempts == 0
    assert stored.finished_at is None
