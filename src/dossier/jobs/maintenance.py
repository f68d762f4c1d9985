"""Housekeeping every worker process runs: reap expired leases, purge old jobs and expired
idempotency keys, run the clean-ups domain packages registered, gauge depth."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import text

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.core.idempotency import purge_expired as purge_expired_keys
from dossier.db.engine import Database
from dossier.jobs import metrics, queue
from dossier.jobs.registry import JobKind, get_kind, registered_housekeeping
from dossier.jobs.retry import backoff_delay

logger = structlog.get_logger("dossier.jobs")

REAP_BATCH = 500
PURGE_BATCH = 1000


async def reap_expired(database: Database, settings: Settings) -> int:
    """Return expired leases to the queue (or ``dead``); returns how many were reaped."""
    reaped = 0
    async with database.writer_sessionmaker() as session, session.begin():
        now = utcnow()
        for lease in await queue.expired_leases(session, now=now, limit=REAP_BATCH):
            try:
                kind: JobKind | None = get_kind(lease.kind)
            except LookupError:
                kind = None
            base = settings.job_backoff_base_seconds
            cap = settings.job_backoff_max_seconds
            if kind is not None and kind.backoff_base_seconds is not None:
                base = kind.backoff_base_seconds
            if kind is not None and kind.backoff_max_seconds is not None:
                cap = kind.backoff_max_seconds
            status = await queue.reap(
                session,
                lease=lease,
                retry_delay=backoff_delay(lease.attempt, base=base, cap=cap),
                now=now,
            )
            if status is None:
                continue
            reaped += 1
            metrics.JOBS_REAPED.inc()
            if status.value == "dead":
                metrics.JOBS_DEAD.labels(lease.kind).inc()
            logger.warning(
                "job_lease_expired", job_id=str(lease.id), kind=lease.kind, now=status.value
            )
    return reaped


async def purge_expired(database: Database, settings: Settings) -> int:
    """Delete finished jobs older than the retention; returns how many."""
    if settings.job_retention_days <= 0:
        return 0
    return await purge_finished_before(
        database, utcnow() - timedelta(days=settings.job_retention_days)
    )


async def purge_expired_idempotency_keys(database: Database) -> int:
    """Delete Idempotency-Key records past their lifetime; returns how many. Several workers
    may run it at once: the delete is idempotent."""
    async with database.writer_sessionmaker() as session, session.begin():
        count = await purge_expired_keys(session)
    if count:
        logger.info("idempotency_keys_purged", count=count)
    return count


async def run_housekeeping(database: Database, settings: Settings) -> None:
    """Run the clean-ups domain packages registered (``@housekeeping``), each on its own: one
    that fails is logged and the others still run."""
    for name, function in registered_housekeeping():
        try:
            await function(database, settings)
        except Exception as exc:
            logger.warning("housekeeping_failed", task=name, error=type(exc).__name__)


async def purge_finished_before(database: Database, cutoff: datetime) -> int:
    """Delete finished jobs that finished before ``cutoff``, in batches; returns how many."""
    total = 0
    while True:
        async with database.writer_sessionmaker() as session, session.begin():
            deleted = await queue.purge_finished(session, older_than=cutoff, limit=PURGE_BATCH)
        total += deleted
        if deleted < PURGE_BATCH:
            break
    if total:
        metrics.JOBS_PURGED.inc(total)
        logger.info("jobs_purged", count=total)
    return total


async def refresh_queue_depth(database: Database) -> dict[str, int]:
    async with database.reader_sessionmaker() as session:
        counts = await queue.count_by_status(session)
    for status, count in counts.items():
        metrics.JOBS_QUEUE_DEPTH.labels(status).set(count)
    return counts


async def refresh_planner_statistics(database: Database) -> None:
    """SQLite has no autovacuum/autoanalyze: without statistics its planner prefers the status
    index to the partial claim index and sorts the whole queue on every claim."""
    if database.dialect != "sqlite":
        return
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(text("ANALYZE jobs"))
