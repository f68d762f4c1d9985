"""Standalone ``dossier worker`` processes against the test database, with short leases."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import tests.faults.kinds  # noqa: F401  (the test process enqueues these kinds)
from dossier.config import Settings
from dossier.db.engine import Database
from dossier.jobs import enqueue
from dossier.models.job import Job, JobStatus
from tests.conftest import TEST_SECRET
from tests.faults.kinds import EFFECTS_TABLE, RUNS_TABLE

REPO = Path(__file__).resolve().parents[2]
FAST_WORKER_ENV = {
    "DOSSIER_JOB_LEASE_SECONDS": "1.0",
    "DOSSIER_JOB_HEARTBEAT_SECONDS": "0.2",
    "DOSSIER_JOB_REAPER_INTERVAL": "0.2",
    "DOSSIER_JOB_POLL_INTERVAL": "0.05",
    "DOSSIER_JOB_BACKOFF_BASE_SECONDS": "0",
    "DOSSIER_JOB_BACKOFF_MAX_SECONDS": "0",
    "DOSSIER_JOB_SHUTDOWN_GRACE_SECONDS": "15",
}


@pytest.fixture
async def fault_tables(database: Database) -> AsyncIterator[None]:
    async with database.engine.begin() as connection:
        await connection.execute(
            text(f"CREATE TABLE {RUNS_TABLE} (job_id VARCHAR(40), attempt INT, pid INT)")
        )
        await connection.execute(text(f"CREATE TABLE {EFFECTS_TABLE} (job_id VARCHAR(40))"))
    try:
        yield
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE {RUNS_TABLE}"))
            await connection.execute(text(f"DROP TABLE {EFFECTS_TABLE}"))


class WorkerProcesses:
    """Starts ``python -m dossier worker`` processes; kills any left over at the end."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *, concurrency: int = 4, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DOSSIER_DATABASE_URL": self.settings.sqlalchemy_url,
            "DOSSIER_DATA_DIR": str(self.data_dir),
            "DOSSIER_SECRET_KEY": TEST_SECRET,
            "DOSSIER_JOB_MODULES": "tests.faults.kinds",
            "DOSSIER_LOG_LEVEL": "WARNING",
            **FAST_WORKER_ENV,
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "dossier", "worker", "--concurrency", str(concurrency)],
            cwd=REPO,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    @staticmethod
    async def wait_exit(process: subprocess.Popen[bytes], within: float) -> int:
        return await asyncio.wait_for(asyncio.to_thread(process.wait), within)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(settings, tmp_path / "worker-data")
    try:
        yield processes
    finally:
        processes.stop_all()


async def enqueue_jobs(
    database: Database, kind: str, payloads: list[dict[str, Any]]
) -> list[uuid.UUID]:
    ids = []
    async with database.writer_sessionmaker() as session, session.begin():
        for payload in payloads:
            ids.append((await enqueue(session, kind=kind, payload=payload)).id)
    return ids


async def runs(database: Database) -> list[tuple[str, int, int]]:
    async with database.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT job_id, attempt, pid FROM {RUNS_TABLE}"))
        return [(str(row[0]), int(row[1]), int(row[2])) for row in result]


async def effects(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT job_id FROM {EFFECTS_TABLE}"))
        return [str(row[0]) for row in result]


async def eventually(
    check: Callable[[], Any], *, within: float, what: str, interval: float = 0.05
) -> Any:
    """Await ``check()`` until truthy, bounded by ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


async def jobs_by_id(database: Database, ids: list[uuid.UUID]) -> dict[uuid.UUID, Job]:
    from sqlalchemy import select

    async with database.sessionmaker() as session:
        rows = (await session.scalars(select(Job).where(Job.id.in_(ids)))).all()
    return {job.id: job for job in rows}


def all_terminal(jobs: dict[uuid.UUID, Job], expected: int) -> bool:
    return len(jobs) == expected and all(JobStatus(j.status).is_terminal for j in jobs.values())
