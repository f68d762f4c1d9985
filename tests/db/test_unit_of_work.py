"""One unit of work per request: committed after success, rolled back on any error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select, text

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.errors import Conflict
from dossier.db.engine import Database, _driver_in_transaction
from dossier.db.session import SessionDep
from dossier.models.user import User
from tests.helpers import assert_problem, session_driver


def _user(email: str) -> User:
    return User(email=email, display_name="x", password_hash="not-a-real-hash")


@pytest.fixture
async def uow_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, configure_logs=False)

    @app.post("/_uow/ok")
    async def ok(session: SessionDep) -> dict[str, str]:
        session.add(_user("ok@example.com"))
        return {"status": "written"}

    @app.post("/_uow/domain-error")
    async def domain_error(session: SessionDep) -> None:
        session.add(_user("domain@example.com"))
        await session.flush()
        raise Conflict("no")

    @app.post("/_uow/crash")
    async def crash(session: SessionDep) -> None:
        session.add(_user("crash@example.com"))
        await session.flush()
        raise RuntimeError("boom")

    @app.get("/_uow/read")
    async def read(session: SessionDep) -> dict[str, Any]:
        users = int(await session.scalar(select(func.count()).select_from(User)) or 0)
        driver = await session_driver(session)
        return {"users": users, "in_transaction": _driver_in_transaction(driver)}

    @app.post("/_uow/in-transaction")
    async def in_transaction(session: SessionDep) -> dict[str, Any]:
        await session.scalar(select(func.count()).select_from(User))
        driver = await session_driver(session)
        return {"in_transaction": _driver_in_transaction(driver)}

    @app.get("/_uow/write-in-a-read")
    async def write_in_a_read(session: SessionDep) -> None:
        session.add(_user("get@example.com"))

    @app.get("/_uow/same-value-in-a-read")
    async def same_value_in_a_read(session: SessionDep) -> dict[str, str]:
        user = (await session.scalars(select(User))).first()
        assert user is not None
        user.display_name = user.display_name  # marks it dirty, changes nothing
        return {"name": user.display_name}

    @app.get("/_uow/change-in-a-read")
    async def change_in_a_read(session: SessionDep) -> None:
        user = (await session.scalars(select(User))).first()
        assert user is not None
        user.display_name = "Changed in a GET"

    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def _emails(database: Database) -> set[str]:
    async with database.sessionmaker() as session:
        return set((await session.scalars(select(User.email))).all())


async def test_successful_handler_commits(
    uow_client: httpx.AsyncClient, database: Database
) -> None:
    response = await uow_client.post("/_uow/ok")
    assert response.status_code == 200
    assert await _emails(database) == {"ok@example.com"}


async def test_domain_error_rolls_back(uow_client: httpx.AsyncClient, database: Database) -> None:
    assert_problem(await uow_client.post("/_uow/domain-error"), 409, "conflict")
    assert await _emails(database) == set()


async def test_crash_rolls_back(uow_client: httpx.AsyncClient, database: Database) -> None:
    assert_problem(await uow_client.post("/_uow/crash"), 500, "internal_error")
    assert await _emails(database) == set()


async def test_safe_methods_read_without_a_transaction(
    uow_client: httpx.AsyncClient, database: Database
) -> None:
    assert (await uow_client.post("/_uow/ok")).status_code == 200
    response = await uow_client.get("/_uow/read")
    assert response.status_code == 200
    assert response.json() == {"users": 1, "in_transaction": False}
    # ...while a write method's unit of work is one transaction.
    assert (await uow_client.post("/_uow/in-transaction")).json() == {"in_transaction": True}


async def test_a_safe_method_that_writes_is_refused(
    uow_client: httpx.AsyncClient, database: Database
) -> None:
    # GET runs in a read-only unit of work (no transaction, so a write could not be atomic):
    # a handler that writes is a programming error, answered as one, and nothing is stored.
    assert_problem(await uow_client.get("/_uow/write-in-a-read"), 500, "internal_error")
    assert await _emails(database) == set()


async def test_a_safe_method_that_changes_a_loaded_object_is_refused(
    uow_client: httpx.AsyncClient, database: Database
) -> None:
    assert (await uow_client.post("/_uow/ok")).status_code == 200
    assert_problem(await uow_client.get("/_uow/change-in-a-read"), 500, "internal_error")
    async with database.sessionmaker() as session:
        names = set((await session.scalars(select(User.display_name))).all())
    assert "Changed in a GET" not in names


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(
    database: Database, settings: Settings
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite pragmas")
    async with database.engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
        busy = await connection.scalar(text("PRAGMA busy_timeout"))
        assert busy == settings.sqlite_busy_timeout_ms


async def test_writer_sessions_take_the_write_lock_up_front(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite locking")
    import sqlite3

    async with database.writer_sessionmaker() as writer:
        await writer.execute(select(func.count()).select_from(User))
        # The IMMEDIATE transaction already holds the write lock: another writer must wait.
        path = database.engine.url.database
        assert path is not None
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        await writer.rollback()


async def test_a_safe_method_that_sets_an_unchanged_value_is_not_refused(
    uow_client: httpx.AsyncClient,
) -> None:
    assert (await uow_client.post("/_uow/ok")).status_code == 200
    assert (await uow_client.get("/_uow/same-value-in-a-read")).status_code == 200
