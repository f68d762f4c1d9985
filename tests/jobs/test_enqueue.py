"""Enqueue: transactional with the caller's data, dedupe, registered kinds only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dossier.db.engine import Database
from dossier.jobs import UnknownJobKind, enqueue, enqueue_many
from dossier.models.job import Job, JobStatus
from tests.factories import create_user


async def _count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def test_enqueue_commits_with_the_unit_of_work(database: Database) -> None:
    user = await create_user(database)
    async with database.writer_sessionmaker() as session, session.begin():
        job = await enqueue(session, kind="test.echo", payload={"n": 1}, owner_id=user.id)
        assert job.status == JobStatus.QUEUED.value
        assert job.max_attempts == 5
    async with database.sessionmaker() as session:
        stored = await session.get(Job, job.id)
    assert stored is not None
    assert stored.payload == {"n": 1}
    assert stored.owner_id == user.id
    assert stored.attempts == 0


async def test_enqueue_rolls_back_with_the_unit_of_work(database: Database) -> None:
    async def failing_request() -> None:
        async with database.writer_sessionmaker() as session, session.begin():
            await enqueue(session, kind="test.noop", payload={})
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        await failing_request()
    assert await _count(database) == 0


async def test_dedupe_key_returns_the_existing_job(database: Database) -> None:
    user = await create_user(database)
    other = await create_user(database)
    async with database.writer_sessionmaker() as session, session.begin():
        first = await enqueue(
            session, kind="test.noop", payload={}, owner_id=user.id, dedupe_key="doc:1:v1"
        )
    async with database.writer_sessionmaker() as session, session.begin():
        again = await enqueue(
            session, kind="test.noop", payload={"x": 2}, owner_id=user.id, dedupe_key="doc:1:v1"
        )
        someone_else = await enqueue(
            session, kind="test.noop", payload={}, owner_id=other.id, dedupe_key="doc:1:v1"
        )
        other_kind = await enqueue(
            session, kind="test.echo", payload={}, owner_id=user.id, dedupe_key="doc:1:v1"
        )
    assert again.id == first.id
    assert again.payload == {}
    assert len({first.id, someone_else.id, other_kind.id}) == 3
    assert await _count(database) == 3


async def test_dedupe_for_system_jobs_without_owner(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        first = await enqueue(session, kind="test.noop", payload={}, dedupe_key="nightly")
        second = await enqueue(session, kind="test.noop", payload={}, dedupe_key="nightly")
    assert first.id == second.id
    assert await _count(database) == 1


async def test_unknown_kind_is_refused(database: Database) -> None:
    async with database.writer_sessionmaker() as session:
        with pytest.raises(UnknownJobKind):
            await enqueue(session, kind="nobody.handles.this", payload={})


async def test_enqueue_many_inserts_in_one_statement(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        ids = await enqueue_many(session, kind="test.noop", payloads=[{"i": i} for i in range(7)])
    assert len(set(ids)) == 7
    assert await _count(database) == 7


async def test_max_attempts_comes_from_the_kind_or_the_call(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        poison = await enqueue(session, kind="test.poison", payload={})
        custom = await enqueue(session, kind="test.noop", payload={}, max_attempts=9)
    assert poison.max_attempts == 3
    assert custom.max_attempts == 9
