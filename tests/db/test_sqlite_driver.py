"""The SQLite dialect: one hand-off to aiosqlite's thread per statement, same results."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from dossier.db.engine import Database
from dossier.models.user import User


@pytest.fixture(autouse=True)
def _sqlite_only(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("the SQLite dialect only")


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call aiosqlite runs on a connection's thread, by function name."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return calls


def _users(*emails: str) -> list[dict[str, Any]]:
    return [{"email": e, "display_name": e, "password_hash": "x"} for e in emails]


async def _warm(database: Database) -> None:
    # Open the pooled connection first, so connecting is not counted.
    async with database.reader_sessionmaker() as session:
        await session.execute(text("SELECT 1"))


async def test_a_read_is_one_hand_off(database: Database, hand_offs: list[str]) -> None:
    await _warm(database)
    hand_offs.clear()
    async with database.reader_sessionmaker() as session:
        assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
        await session.commit()  # no transaction is open: nothing is sent
    assert hand_offs == ["_run"]  # SQLAlchemy's own adapter makes 5 here


async def test_a_write_transaction_is_begin_statement_commit(
    database: Database, hand_offs: list[str]
) -> None:
    await _warm(database)
    hand_offs.clear()
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(insert(User), _users("one@example.com"))
    assert hand_offs == ["_run", "_run", "commit"]  # BEGIN IMMEDIATE, INSERT, COMMIT


async def test_results_match_sqlite3(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        # executemany
        await session.execute(insert(User), _users("a@example.com", "b@example.com", "c@x.org"))
        # rowcount of an UPDATE
        changed = await session.execute(
            update(User).where(User.email.like("%@example.com")).values(display_name="changed")
        )
        assert changed.rowcount == 2  # type: ignore[attr-defined]  # a CursorResult
        # RETURNING rows and their count (read through the connection: a Core result)
        connection = await session.connection()
        gone = await connection.execute(
            delete(User).where(User.email == "c@x.org").returning(User.email)
        )
        assert gone.scalars().all() == ["c@x.org"]
        assert gone.rowcount == 1  # sqlite3 counts RETURNING rows as they are fetched
        # rows, in order, with their column names
        rows = (
            await session.execute(select(User.email, User.display_name).order_by(User.email))
        ).mappings()
        assert [dict(r) for r in rows] == [
            {"email": "a@example.com", "display_name": "changed"},
            {"email": "b@example.com", "display_name": "changed"},
        ]
    async with database.reader_sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 2


async def test_errors_keep_their_types_and_roll_back(database: Database) -> None:
    async with database.writer_sessionmaker() as session:
        await session.execute(insert(User), _users("dup@example.com"))
        with pytest.raises(IntegrityError):
            await session.execute(insert(User), _users("dup@example.com"))
        await session.rollback()
    async with database.reader_sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    # The connection is usable afterwards: no transaction or lock was left behind.
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(insert(User), _users("dup@example.com"))


async def test_a_closed_driver_connection_is_discarded(database: Database) -> None:
    await _warm(database)
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        await raw.driver_connection.close()  # as if the connection had been lost
        with pytest.raises(OperationalError) as failure:
            await connection.execute(text("SELECT 1"))
        assert failure.value.connection_invalidated
    # The pool dropped it: the next checkout opens a working connection.
    async with database.reader_sessionmaker() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
