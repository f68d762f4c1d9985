"""Connections go back into the pool rolled back only when they still hold a transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from dossier.db.engine import Database, _driver_in_transaction
from tests.helpers import session_driver


async def _count_rollbacks(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count rollbacks that reach the DBAPI adapter (the pool's reset goes through it)."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        adapter: Any = type(raw.dbapi_connection)
    calls: list[int] = []
    original: Callable[[Any], Any] = adapter.rollback

    def counting(self: Any) -> Any:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(adapter, "rollback", counting)
    return calls


async def test_a_committed_connection_returns_without_a_rollback(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = await _count_rollbacks(database, monkeypatch)
    async with database.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert calls == []


async def test_a_connection_left_in_a_transaction_is_rolled_back_on_return(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.dialect != "sqlite":
        # asyncpg's adapter rolls back only transactions it began itself, so a BEGIN sent to
        # the driver directly is out of reach of any pool reset (the default one included).
        pytest.skip("a driver-level BEGIN is only reachable on SQLite")
    calls = await _count_rollbacks(database, monkeypatch)
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.commit()  # SQLAlchemy sees no transaction from here on
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        # ...but the driver has one open (a transaction begun behind SQLAlchemy's back).
        await driver.execute("BEGIN IMMEDIATE")
        assert _driver_in_transaction(driver)
    assert calls == [1]
    assert not _driver_in_transaction(driver)
    # The connection is usable by the next writer: no lock was left behind.
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(text("SELECT 1"))


async def test_an_abandoned_unit_of_work_is_rolled_back(database: Database) -> None:
    async with database.writer_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        driver = await session_driver(session)
        assert _driver_in_transaction(driver)
    # The session closed with its transaction open: rolled back on the way to the pool.
    assert not _driver_in_transaction(driver)
