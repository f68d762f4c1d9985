"""``dossier jobs …`` and ``dossier worker`` as real processes against the test database."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.models.job import Job
from tests.jobs.conftest import add_job, wait_for_job
from tests.test_cli import run_cli


async def test_jobs_list_show_retry_purge(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    dead = await add_job(database, kind="test.noop", payload={"n": 1})
    old = await add_job(database, kind="test.noop", payload={"n": 2})
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == dead.id)
            .values(status="dead", attempts=5, finished_at=utcnow(), last_error="poison")
        )
        await session.execute(
            update(Job)
            .where(Job.id == old.id)
            .values(status="succeeded", finished_at=utcnow() - timedelta(days=40))
        )

    def cli(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args, database_url=database_url, data_dir=tmp_path)
        return result.returncode, result.stdout, result.stderr

    code, out, err = await asyncio.to_thread(cli, "jobs", "list", "--status", "dead")
    assert code == 0, err
    assert str(dead.id)[:8] in out
    assert str(old.id)[:8] not in out

    code, out, err = await asyncio.to_thread(cli, "jobs", "show", str(dead.id))
    assert code == 0, err
    shown = json.loads(out)
    assert shown["status"] == "dead"
    assert shown["last_error"] == "poison"

    code, out, err = await asyncio.to_thread(cli, "jobs", "retry", str(dead.id))
    assert code == 0, err
    retried = await wait_for_job(database, dead.id, lambda j: True)
    assert retried.status == "queued"
    assert retried.attempts == 0
    code, _, _ = await asyncio.to_thread(cli, "jobs", "retry", str(dead.id))
    assert code == 1  # queued now: not retryable

    code, _, err = await asyncio.to_thread(cli, "jobs", "purge", "--older-than-days", "30")
    assert code == 0, err
    assert "purged 1" in err
    async with database.sessionmaker() as session:
        assert await session.get(Job, old.id) is None
        assert await session.get(Job, dead.id) is not None

    code, _, _ = await asyncio.to_thread(cli, "jobs", "show", "not-a-uuid")
    assert code == 2


@pytest.mark.parametrize("tuning", ["true", "false"])
async def test_worker_refuses_unknown_kinds(database_url: str, tmp_path: Path, tuning: str) -> None:
    result = await asyncio.to_thread(
        functools.partial(
            run_cli,
            "worker",
            "--kinds",
            "no.such.kind",
            database_url=database_url,
            data_dir=tmp_path,
            extra_env={"DOSSIER_GC_TUNING": tuning},
        )
    )
    assert result.returncode == 2
    assert "no.such.kind" in result.stderr
    # The worker process tunes its garbage collector once started, unless told not to.
    assert ("gc_tuned" in result.stderr) is (tuning == "true")
