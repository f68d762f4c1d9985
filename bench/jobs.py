"""Job engine throughput and pickup latency, on SQLite and PostgreSQL.

1. Throughput: 20,000 no-op jobs are enqueued first, then drained by 1 and by 4
   ``dossier worker`` processes. Jobs/s = 20,000 / (last finish - first start), both read from
   the jobs table, so process start-up is not counted.
2. Pickup latency with idle workers: jobs enqueued one at a time, ``started_at - created_at``
   (p50, p99) — for a standalone worker woken by LISTEN/NOTIFY (PostgreSQL) and for the embedded
   shape (worker tasks in the enqueuing process, woken in process).

PostgreSQL is used when reachable at ``DOSSIER_BENCH_DATABASE_URL`` (default the local server);
a scratch database is created and dropped. Figures go to stdout as Markdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import bench._job_kinds  # noqa: F401
from bench.harness import write_section
from dossier.config import Settings
from dossier.db.engine import Database, create_database
from dossier.db.migrate import upgrade
from dossier.jobs import Worker, enqueue, enqueue_many
from dossier.models.job import Job

REPO = Path(__file__).resolve().parents[1]
JOBS = int(os.environ.get("DOSSIER_BENCH_JOBS", "20000"))
LATENCY_SAMPLES = int(os.environ.get("DOSSIER_BENCH_LATENCY_SAMPLES", "300"))
PG_URL = os.environ.get("DOSSIER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORKER_ENV = {
    "DOSSIER_JOB_MODULES": "bench._job_kinds",
    "DOSSIER_JOB_BATCH_SIZE": "200",
    "DOSSIER_JOB_PREFETCH": "200",
    "DOSSIER_JOB_POLL_INTERVAL": "0.2",
    "DOSSIER_LOG_LEVEL": "WARNING",
    "DOSSIER_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
}
CONCURRENCY = 100


def _settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": data_dir,
        "secret_key": WORKER_ENV["DOSSIER_SECRET_KEY"],
        "log_level": "WARNING",
        "worker_concurrency": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _reset(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM jobs"))


async def _fill(database: Database, count: int) -> None:
    for start in range(0, count, 1000):
        async with database.writer_sessionmaker() as session, session.begin():
            await enqueue_many(
                session,
                kind="bench.noop",
                payloads=[{"n": n} for n in range(start, min(start + 1000, count))],
            )


async def _drained(database: Database, count: int) -> tuple[int, float]:
    async with database.sessionmaker() as session:
        done = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == "succeeded")
        )
        first = await session.scalar(select(func.min(Job.started_at)))
        last = await session.scalar(select(func.max(Job.finished_at)))
    seconds = (last - first).total_seconds() if first and last else 0.0
    return int(done or 0), seconds


def _spawn_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dossier", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(command, cwd=REPO, env=env)


async def throughput(settings: Settings, database: Database, processes: int) -> float:
    await _reset(database)
    await _fill(database, JOBS)
    env = {
        **os.environ,
        **WORKER_ENV,
        "PYTHONPATH": str(REPO),
        "DOSSIER_DATABASE_URL": settings.sqlalchemy_url,
        "DOSSIER_DATA_DIR": str(settings.data_dir),
    }
    workers = [_spawn_worker(env, CONCURRENCY) for _ in range(processes)]
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done, seconds = await _drained(database, JOBS)
            if done >= JOBS:
                return JOBS / seconds
            await asyncio.sleep(0.25)
        raise RuntimeError("the workers did not drain the queue within 10 minutes")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)


async def _latencies(database: Database) -> list[float]:
    samples: list[float] = []
    for _ in range(LATENCY_SAMPLES):
        async with database.writer_sessionmaker() as session, session.begin():
            job = await enqueue(session, kind="bench.noop", payload={})
        job_id = job.id
        for _ in range(2000):  # bounded: 10 s
            async with database.sessionmaker() as session:
                row = (
                    await session.execute(
                        select(Job.created_at, Job.started_at).where(Job.id == job_id)
                    )
                ).one()
            if row.started_at is not None:
                samples.append((row.started_at - row.created_at).total_seconds() * 1000)
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)  # idle again before the next one
    return samples


async def _warm_up(database: Database) -> None:
    """Wait until the worker has run one job (started, listening), then let it go idle."""
    async with database.writer_sessionmaker() as session, session.begin():
        job = await enqueue(session, kind="bench.noop", payload={})
    for _ in range(600):  # bounded: 60 s
        async with database.sessionmaker() as session:
            status = await session.scalar(select(Job.status).where(Job.id == job.id))
        if status == "succeeded":
            break
        await asyncio.sleep(0.1)
    else:
        raise RuntimeError("the worker did not start")
    await asyncio.sleep(1.0)


def _percentiles(samples: list[float]) -> str:
    if len(samples) < 2:
        return "n/a"
    cuts = statistics.quantiles(samples, n=100)
    return f"{statistics.median(samples):.1f} ms / {cuts[98]:.1f} ms"


async def latency_embedded(settings: Settings, database: Database) -> str:
    await _reset(database)
    worker = Worker(database=database, settings=settings, concurrency=4)
    await worker.start()
    try:
        await _warm_up(database)
        return _percentiles(await _latencies(database))
    finally:
        await worker.stop(grace=5)


async def latency_standalone(settings: Settings, database: Database) -> str:
    """A separate worker process; enqueues from here reach it only by NOTIFY (or polling)."""
    await _reset(database)
    env = {
        **os.environ,
        **WORKER_ENV,
        "PYTHONPATH": str(REPO),
        "DOSSIER_DATABASE_URL": settings.sqlalchemy_url,
        "DOSSIER_DATA_DIR": str(settings.data_dir),
    }
    worker = _spawn_worker(env, 4)
    try:
        await _warm_up(database)
        return _percentiles(await _latencies(database))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


async def _postgres_url() -> str | None:
    admin = make_url(Settings(_env_file=None, database_url=PG_URL).sqlalchemy_url)  # type: ignore[call-arg]
    name = f"dossier_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: SQLite figures only
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipping it")
        return None
    finally:
        await engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


async def _drop(url: str) -> None:
    target = make_url(url)
    engine = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            )
    finally:
        await engine.dispose()


async def _scenario(label: str, url: str, data_dir: Path) -> list[str]:
    settings = _settings(url, data_dir)
    await asyncio.to_thread(upgrade, settings)
    database = create_database(settings)
    rows = []
    try:
        for processes in (1, 4):
            rate = await throughput(settings, database, processes)
            rows.append(
                f"| {label} | drain {JOBS:,} no-op jobs, {processes} worker process(es) "
                f"| {rate:,.0f} jobs/s |"
            )
            print(rows[-1], flush=True)
        rows.append(
            f"| {label} | pickup p50 / p99, embedded (in-process wake-up) | "
            f"{await latency_embedded(settings, database)} |"
        )
        print(rows[-1], flush=True)
        wake = "LISTEN/NOTIFY" if label == "PostgreSQL" else "polling every 0.2 s"
        rows.append(
            f"| {label} | pickup p50 / p99, standalone worker ({wake}) | "
            f"{await latency_standalone(settings, database)} |"
        )
        print(rows[-1], flush=True)
    finally:
        await database.dispose()
    return rows


async def _run() -> list[str]:
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        rows += await _scenario("SQLite", f"sqlite+aiosqlite:///{data_dir / 'bench.db'}", data_dir)
        pg = await _postgres_url()
        if pg is not None:
            try:
                rows += await _scenario("PostgreSQL", pg, data_dir)
            finally:
                await _drop(pg)
    return rows


def _machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL on the same machine, no CPU pinning; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def main(argv: list[str] | None = None) -> None:
    load = os.getloadavg()[0]
    print(f"{_machine()}; load average {load:.1f}")
    print("| database | scenario | result |\n| --- | --- | --- |", flush=True)
    rows = asyncio.run(_run())
    write_section(
        "jobs",
        f"Measured on {_machine()}; load average {load:.1f} when the run started.\n\n"
        "| database | scenario | result |\n| --- | --- | --- |\n" + "\n".join(rows),
    )


if __name__ == "__main__":
    main()
