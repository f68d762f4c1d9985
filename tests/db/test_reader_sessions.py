"""Read-only units of work: no transaction, every statement sees the latest commit, no writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Executable, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.config import Settings
from dossier.db.engine import (
    Database,
    ReadOnlySessionError,
    _driver_in_transaction,
    create_database,
)
from dossier.models.user import User
from tests.helpers import session_driver


def _user(email: str) -> User:
    return User(email=email, display_name="x", password_hash="not-a-real-hash")


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_a_read_holds_no_transaction(make_settings: Callable[..., Settings]) -> None:
    # One pooled connection: the writer below gets the connection the reader used, so this
    # also shows that the reader's autocommit does not stay with the connection.
    database = create_database(make_settings(database_pool_size=1, database_max_overflow=0))
    try:
        await _reader_then_writer(database)
    finally:
        await database.dispose()


async def _reader_then_writer(database: Database) -> None:
    async with database.reader_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        read_on = await session_driver(session)
        assert not _driver_in_transaction(read_on)
    async with database.writer_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        write_on = await session_driver(session)
        assert write_on is read_on
        assert _driver_in_transaction(write_on)  # the writer's unit of work is one transaction


async def test_each_statement_sees_the_latest_commit(database: Database) -> None:
    # What PostgreSQL's READ COMMITTED gives inside a transaction too: no snapshot across
    # statements. Documented in docs/operations.md.
    async with database.reader_sessionmaker() as reader:
        assert await _count(reader) == 0
        async with database.writer_sessionmaker() as writer, writer.begin():
            writer.add(_user("late@example.com"))
        assert await _count(reader) == 1


async def test_a_flush_is_refused_and_nothing_is_written(database: Database) -> None:
    async with database.reader_sessionmaker() as session:
        session.add(_user("nope@example.com"))
        with pytest.raises(ReadOnlySessionError):
            await session.flush()
    async with database.reader_sessionmaker() as session:
        assert await _count(session) == 0


async def test_a_statement_that_writes_is_refused(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        session.add(_user("kept@example.com"))
    writes: list[Executable] = [
        update(User).values(display_name="changed"),
        text("UPDATE users SET display_name = 'changed'"),
        text("  delete FROM users"),
    ]
    for statement in writes:
        async with database.reader_sessionmaker() as session:
            with pytest.raises(ReadOnlySessionError):
                await session.execute(statement)
    async with database.reader_sessionmaker() as session:
        connection = await session.connection()
        with pytest.raises(ReadOnlySessionError):
            await connection.exec_driver_sql("INSERT INTO tags (id, name) VALUES ('x', 'y')")
    async with database.reader_sessionmaker() as session:
        assert await session.scalar(select(User.display_name)) == "x"
        assert await session.scalar(select(func.count()).select_from(User)) == 1
