"""Connection pool: sized by settings on both databases; dead connections never reach a request."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from dossier.config import Settings
from dossier.db.engine import Database, create_database
from dossier.models.task import Tag
from tests.helpers import session_driver


async def test_the_pool_is_sized_by_settings(make_settings: Callable[..., Settings]) -> None:
    database = create_database(make_settings(database_pool_size=3, database_max_overflow=2))
    try:
        assert database.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert database.engine.pool._max_overflow == 2  # type: ignore[attr-defined]
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_a_connection_the_server_closed_is_replaced_without_an_error(
    make_settings: Callable[..., Settings],
) -> None:
    # One pooled connection, no pre-ping round trip: the checkout listener must notice that
    # the server ended it (as after a restart or a failover) and hand out a new one.
    settings = make_settings(
        database_pool_size=1, database_max_overflow=0, database_pool_pre_ping=False
    )
    database = create_database(settings)
    admin = create_database(settings.model_copy(update={"database_pool_size": 1}))
    try:
        async with database.reader_sessionmaker() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
            driver = await session_driver(session)
        async with admin.reader_sessionmaker() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # The loop reads the end of the pooled connection's socket soon after; wait for it.
        for _ in range(1000):  # up to 10 s on a busy machine; usually a few ms
            if driver.is_closed():
                break
            await asyncio.sleep(0.01)
        assert driver.is_closed()
        async with database.reader_sessionmaker() as session:
            second = await session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await admin.dispose()
        await database.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+aiosqlite://"])
async def test_in_memory_sqlite_keeps_its_single_connection(
    make_settings: Callable[..., Settings], url: str
) -> None:
    database = create_database(make_settings(database_url=url))
    try:
        assert type(database.engine.pool).__name__ == "StaticPool"
        async with database.reader_sessionmaker() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await database.dispose()


async def test_statement_parameters_stay_out_of_error_messages(database: Database) -> None:
    # Error messages reach the log; a failed write must not carry its values (hashes, emails).
    secret = "$argon2id$v=19$not-a-real-hash-but-secret"
    async with database.writer_sessionmaker() as session:
        await session.execute(insert(Tag).values(id=uuid.uuid4(), name=secret[:50]))
        with pytest.raises(IntegrityError) as failure:
            await session.execute(insert(Tag).values(id=uuid.uuid4(), name=secret[:50]))
        await session.rollback()
    assert secret[:20] not in str(failure.value)
