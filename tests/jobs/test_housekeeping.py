"""Workers purge records nobody can use again (expired refresh tokens and idempotency keys)
and run the clean-ups domain packages register."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dossier.auth.jobs import purge_expired_refresh_tokens
from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.jobs import registry
from dossier.jobs.maintenance import purge_expired_idempotency_keys, run_housekeeping
from dossier.jobs.worker import Worker
from dossier.models.idempotency import IdempotencyRecord
from dossier.models.refresh_token import RefreshToken
from tests.factories import create_user
from tests.jobs.conftest import FAST


async def _seed(database: Database) -> None:
    """For one user: an expired and a live refresh token; an expired and a live key."""
    user = await create_user(database)
    now = utcnow()
    family = uuid.uuid4()
    async with database.writer_sessionmaker() as session, session.begin():
        for name, expires in (
            ("old", now - timedelta(seconds=1)),
            ("live", now + timedelta(days=1)),
        ):
            session.add(
                RefreshToken(
                    user_id=user.id,
                    family_id=family if name == "old" else uuid.uuid4(),
                    token_hash=(name * 64)[:64],
                    expires_at=expires,
                    used_at=now if name == "old" else None,
                )
            )
            session.add(
                IdempotencyRecord(
                    user_id=user.id,
                    key=f"key-{name}",
                    method="POST",
                    path="/api/v1/tasks",
                    fingerprint="0" * 64,
                    state="done",
                    locked_until=now,
                    expires_at=expires,
                )
            )


async def _remaining(database: Database) -> tuple[list[str], list[str]]:
    async with database.sessionmaker() as session:
        tokens = (await session.scalars(select(RefreshToken.token_hash))).all()
        keys = (await session.scalars(select(IdempotencyRecord.key))).all()
    return sorted(t[:4] for t in tokens), sorted(keys)


async def test_purge_deletes_only_what_has_expired(database: Database, settings: Settings) -> None:
    await _seed(database)
    assert await purge_expired_refresh_tokens(database, settings) == 1
    assert await purge_expired_idempotency_keys(database) == 1
    assert await _remaining(database) == (["live"], ["key-live"])
    assert await purge_expired_refresh_tokens(database, settings) == 0
    assert await purge_expired_idempotency_keys(database) == 0


async def test_a_running_worker_purges_on_its_schedule(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    await _seed(database)
    settings = make_settings(**{**FAST, "job_purge_interval": 0.1})
    worker = Worker(database=database, settings=settings, concurrency=1)
    await worker.start()
    try:
        for _ in range(100):
            async with database.sessionmaker() as session:
                count = await session.scalar(select(func.count()).select_from(RefreshToken))
            if count == 1:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop(grace=1)
    assert await _remaining(database) == (["live"], ["key-live"])


async def test_registered_clean_ups_run_each_on_its_own(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    async def broken(_database: Database, _settings: Settings) -> None:
        ran.append("broken")
        raise RuntimeError("storage down")

    async def fine(_database: Database, _settings: Settings) -> None:
        ran.append("fine")

    monkeypatch.setattr(registry, "_HOUSEKEEPING", {})
    registry.housekeeping("a.broken")(broken)
    registry.housekeeping("b.fine")(fine)
    await run_housekeeping(database, settings)
    assert ran == ["broken", "fine"]
