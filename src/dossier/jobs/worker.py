"""The worker: claims jobs in batches, runs them under a lease, completes them in batches.

One :class:`Worker` per process runs ``concurrency`` handlers at a time. Its tasks:

- the cycle loop, in one transaction, writes the outcomes of the attempts that finished since
  its last turn (each write matching the lease) and claims up to ``job_batch_size`` due jobs
  for its free slots; then it sleeps until woken (in-process enqueue, PostgreSQL NOTIFY, a
  finished attempt) or until the poll interval passes;
- the heartbeat extends every lease this worker holds in one statement and picks up cancel
  requests;
- the maintenance loop returns expired leases to the queue (or ``dead``), purges old finished
  jobs and refreshes the queue-depth gauge.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import socket
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.jobs import metrics, queue
from dossier.jobs.context import JobContext
from dossier.jobs.enqueue import add_local_waker, remove_local_waker, set_default_max_attempts
from dossier.jobs.errors import JobCancelled, PermanentJobError
from dossier.jobs.maintenance import (
    purge_expired,
    purge_expired_idempotency_keys,
    reap_expired,
    refresh_planner_statistics,
    refresh_queue_depth,
    run_housekeeping,
)
from dossier.jobs.outcomes import Outcome, count_outcomes, write_outcomes
from dossier.jobs.registry import JobKind, get_kind, registered_kinds
from dossier.jobs.retry import backoff_delay

logger = structlog.get_logger("dossier.jobs")

WRITE_RETRIES = 5
COALESCE_SECONDS = 0.002


@dataclass(slots=True)
class _Held:
    job: queue.ClaimedJob
    context: JobContext | None = None


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        concurrency: int,
        kinds: Sequence[str] | None = None,
        worker_id: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.database = database
        self.settings = settings
        self.concurrency = concurrency
        self.worker_id = worker_id or new_worker_id()
        self._requested_kinds = list(kinds) if kinds else None
        self.kinds: list[str] = []
        self._held: dict[uuid.UUID, _Held] = {}
        self._pending: deque[queue.ClaimedJob] = deque()
        self._tasks: dict[asyncio.Task[None], queue.ClaimedJob] = {}
        self._outcomes: deque[Outcome] = deque()
        self._closing = False
        self._coalesced = False
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._aborting = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._cycler: asyncio.Task[None] | None = None
        self._waker: Any = None
        self._cpu_pool: ProcessPoolExecutor | None = None
        self._started = False
        self._stopped = False

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        return self.concurrency + self.settings.job_prefetch

    async def start(self) -> None:
        if self._started:
            return
        available = registered_kinds()
        if self._requested_kinds is None:
            self.kinds = available
        else:
            unknown = sorted(set(self._requested_kinds) - set(available))
            if unknown:
                raise ValueError(f"no handler is registered for job kinds: {', '.join(unknown)}")
            self.kinds = sorted(set(self._requested_kinds))
        set_default_max_attempts(self.settings.job_max_attempts)
        self._started = True
        loop = asyncio.get_running_loop()
        self._waker = add_local_waker(loop, self._wake.set)
        self._cycler = asyncio.create_task(self._cycle_loop(), name="jobs-cycle")
        self._background = [
            asyncio.create_task(self._heartbeat_loop(), name="jobs-heartbeat"),
            asyncio.create_task(self._maintenance_loop(), name="jobs-maintenance"),
        ]
        if self.database.dialect == "postgresql" and self.settings.job_notify:
            from dossier.jobs.notify import listen_forever

            self._background.append(
                asyncio.create_task(
                    listen_forever(self.database.engine.url, self._wake.set), name="jobs-listen"
                )
            )
        logger.info(
            "worker_started",
            worker_id=self.worker_id,
            concurrency=self.concurrency,
            kinds=self.kinds,
            database=self.database.dialect,
        )

    def request_stop(self) -> None:
        """First call: drain (stop claiming, finish running jobs). Second call: abort."""
        if self._stopping.is_set():
            self._aborting.set()
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT (standalone ``dossier worker``), then shut down gracefully."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        try:
            await self.start()
            await self._stopping.wait()
            await self.stop()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, release unstarted claims, let running jobs finish within ``grace``."""
        if self._stopped or not self._started:
            return
        self._stopped = True
        grace = self.settings.job_shutdown_grace_seconds if grace is None else grace
        self._stopping.set()
        unstarted = list(self._pending)
        self._pending.clear()
        for job in unstarted:
            self._finished(Outcome(job, "released"))
        await self._drain_running(grace)
        self._closing = True
        self._wake.set()
        if self._cycler is not None:
            await self._cycler
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._waker is not None:
            remove_local_waker(self._waker)
        if self._cpu_pool is not None:
            self._cpu_pool.shutdown(wait=False, cancel_futures=True)
        logger.info("worker_stopped", worker_id=self.worker_id, released=len(unstarted))

    async def _drain_running(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        aborted = asyncio.create_task(self._aborting.wait())
        try:
            while self._tasks and not self._aborting.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.wait(
                    [*self._tasks, aborted],
                    timeout=remaining,
                    return_when=asyncio.FIRST_COMPLETED,
                )
        finally:
            aborted.cancel()
        running = list(self._tasks)
        if running:
            logger.warning("worker_releasing_running_jobs", count=len(running))
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # --- claiming and completing -------------------------------------------------------------
    def _claim_want(self) -> int:
        """How many jobs to claim now: none while a full slot set is still waiting to start."""
        if self._stopping.is_set():
            return 0
        free = self.capacity - len(self._held)
        batch = min(self.settings.job_batch_size, self.capacity)
        if free <= 0 or (self._pending and free < max(batch // 2, 1)):
            return 0
        return min(free, batch)

    def _should_flush(self) -> bool:
        """Write outcomes now, or wait a moment for more to gather into the same batch?"""
        threshold = max(min(self.settings.job_batch_size, self.capacity) // 2, 1)
        return (
            len(self._outcomes) >= threshold
            or self._coalesced  # waited once already: never delay an outcome more than that
            or not self._tasks
            or self._stopping.is_set()
        )

    def _finished(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._wake.set()

    async def _cycle_loop(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            want = self._claim_want()
            if self._outcomes and not want and not self._should_flush():
                # More attempts are finishing: gather them for a few ms, then write one batch.
                await asyncio.sleep(COALESCE_SECONDS)
                self._coalesced = True
                continue
            self._coalesced = False
            batch = [
                self._outcomes.popleft()
                for _ in range(min(len(self._outcomes), self.settings.job_batch_size))
            ]
            if not batch and not want:
                if self._closing and not self._outcomes:
                    return
                await self._sleep_until_woken(None)
                continue
            try:
                claimed = await self._write_and_claim(batch, want)
                failures = 0
            except Exception as exc:
                failures += 1
                logger.warning("job_cycle_failed", error=type(exc).__name__, failures=failures)
                if self._closing and failures >= WRITE_RETRIES:
                    # The leases expire and the reaper re-queues these: late, never lost.
                    logger.error("job_outcomes_dropped", count=len(batch))
                    self._forget(batch)
                    return
                self._outcomes.extendleft(reversed(batch))
                await self._sleep_until_woken(min(self.settings.job_poll_interval * failures, 30))
                continue
            if claimed:
                now = utcnow()
                for job in claimed:
                    self._held[job.id] = _Held(job)
                    self._pending.append(job)
                    metrics.JOB_CLAIM_LATENCY.observe(max((now - job.run_at).total_seconds(), 0.0))
                self._dispatch()
            elif want and not batch:
                await self._sleep_until_woken(self.settings.job_poll_interval)

    async def _write_and_claim(self, batch: list[Outcome], want: int) -> list[queue.ClaimedJob]:
        claimed: list[queue.ClaimedJob] = []
        async with self.database.writer_sessionmaker() as session, session.begin():
            now = utcnow()
            written = (
                await write_outcomes(session, worker_id=self.worker_id, batch=batch, now=now)
                if batch
                else {}
            )
            if want:
                claimed = await queue.claim_batch(
                    session,
                    worker_id=self.worker_id,
                    kinds=self.kinds,
                    limit=want,
                    lease_seconds=self.settings.job_lease_seconds,
                    now=now,
                )
        if batch:
            count_outcomes(batch, written)
            self._forget(batch)
        return claimed

    def _forget(self, batch: list[Outcome]) -> None:
        for outcome in batch:
            self._held.pop(outcome.job.id, None)

    async def _sleep_until_woken(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _dispatch(self) -> None:
        while self._pending and len(self._tasks) < self.concurrency:
            if self._stopping.is_set():
                return
            job = self._pending.popleft()
            task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._tasks[task] = job
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._dispatch()

    # --- running ------------------------------------------------------------------------------
    def _cpu_executor(self) -> Executor:
        if self._cpu_pool is None:
            # spawn: a fork of a process with a running event loop and open sockets is unsafe.
            self._cpu_pool = ProcessPoolExecutor(
                max_workers=self.settings.job_cpu_processes,
                mp_context=multiprocessing.get_context("spawn"),
            )
        return self._cpu_pool

    def _retry_delay(self, kind: JobKind | None, attempt: int) -> timedelta:
        base = self.settings.job_backoff_base_seconds
        cap = self.settings.job_backoff_max_seconds
        if kind is not None:
            base = kind.backoff_base_seconds if kind.backoff_base_seconds is not None else base
            cap = kind.backoff_max_seconds if kind.backoff_max_seconds is not None else cap
        return backoff_delay(attempt, base=base, cap=cap)

    async def _run(self, job: queue.ClaimedJob) -> None:
        kind = get_kind(job.kind)
        context = JobContext(
            job=job,
            worker_id=self.worker_id,
            settings=self.settings,
            database=self.database,
            cpu_executor=self._cpu_executor,
        )
        held = self._held.get(job.id)
        if held is not None:
            held.context = context
        limit = kind.timeout_seconds or self.settings.job_timeout_seconds
        metrics.JOBS_STARTED.labels(job.kind).inc()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                result = await kind.handler(context, job.payload)
            outcome = self._success(job, result)
        except JobCancelled:
            outcome = Outcome(job, "cancelled")
        except PermanentJobError as exc:
            self._log(job).warning("job_failed_permanently", error=str(exc))
            outcome = Outcome(job, "failed", error=_describe(exc), permanent=True)
        except asyncio.CancelledError:
            # Shutdown deadline: give the job back for another worker, then stop.
            self._finished(Outcome(job, "released"))
            raise
        except TimeoutError as exc:
            timed_out = f"timed out after {limit:g} s"
            self._log(job).warning("job_timed_out", limit=limit)
            error = timed_out if not str(exc) else _describe(exc)
            outcome = Outcome(
                job, "failed", error=error, retry_delay=self._retry_delay(kind, job.attempt)
            )
        except Exception as exc:
            self._log(job).warning("job_attempt_failed", error=type(exc).__name__, exc_info=True)
            outcome = Outcome(
                job,
                "failed",
                error=_describe(exc),
                retry_delay=self._retry_delay(kind, job.attempt),
            )
        finally:
            metrics.JOB_DURATION.labels(job.kind).observe(time.perf_counter() - started)
        self._finished(outcome)

    @staticmethod
    def _log(job: queue.ClaimedJob) -> Any:
        return logger.bind(job_id=str(job.id), kind=job.kind, attempt=job.attempt)

    @staticmethod
    def _success(job: queue.ClaimedJob, result: Any) -> Outcome:
        if result is not None and not isinstance(result, dict):
            return Outcome(
                job,
                "failed",
                error=f"the handler returned {type(result).__name__}, not a dict",
                permanent=True,
            )
        if result is not None:
            try:
                json.dumps(result)
            except (TypeError, ValueError) as exc:
                return Outcome(
                    job, "failed", error=f"the result is not JSON: {exc}", permanent=True
                )
        return Outcome(job, "succeeded", result=result)

    # --- leases and maintenance -----------------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.job_heartbeat_seconds)
            await self.heartbeat_once()

    async def heartbeat_once(self) -> None:
        snapshot = {held.job.id: held for held in self._held.values()}
        if not snapshot:
            return
        try:
            async with self.database.writer_sessionmaker() as session, session.begin():
                alive = await queue.heartbeat(
                    session,
                    worker_id=self.worker_id,
                    keys=[held.job.key for held in snapshot.values()],
                    lease_seconds=self.settings.job_lease_seconds,
                    now=utcnow(),
                )
        except Exception as exc:
            logger.warning("job_heartbeat_failed", error=type(exc).__name__)
            return
        for job_id, held in snapshot.items():
            if held.context is None:
                continue
            if job_id in alive:
                held.context.cancel_requested = alive[job_id]
            elif job_id in self._held:
                held.context.lease_lost = True

    async def _maintenance_loop(self) -> None:
        last_purge = float("-inf")
        while True:
            try:
                await reap_expired(self.database, self.settings)
                if time.monotonic() - last_purge >= self.settings.job_purge_interval:
                    last_purge = time.monotonic()
                    await purge_expired(self.database, self.settings)
                    await purge_expired_idempotency_keys(self.database)
                    await run_housekeeping(self.database, self.settings)
                    await refresh_planner_statistics(self.database)
                await refresh_queue_depth(self.database)
            except Exception as exc:
                logger.warning("job_maintenance_failed", error=type(exc).__name__)
            await asyncio.sleep(self.settings.job_reaper_interval)


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
