"""Read-only units of work: no transaction, every statement sees the latest commit, no writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from dossier.db.engine import Database, ReadOnlySessionError, _driver_in_transaction
from dossier.models.user import User


def _user(email: str) -> User:
    return User(email=email, display_name="x", password_hash="not-a-real-hash")


async def _count(session: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)))  # type: ignore[attr-defined]


async def test_a_read_holds_no_transaction(database: Database) -> None:
    async with database.reader_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert not _driver_in_transaction(driver)
    async with database.writer_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert _driver_in_transaction(driver)  # the writer's unit of work is one transaction


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
    async with database.reader_sessionmaker() as session:
        with pytest.raises(ReadOnlySessionError):
            await session.execute(update(User).values(display_name="changed"))
    async with database.reader_sessionmaker() as session:
        assert await session.scalar(select(User.display_name)) == "x"
