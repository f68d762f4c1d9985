"""Shared fixtures: a real database per test session, cleaned after every test.

The suite runs on a SQLite file by default. With ``DOSSIER_TEST_DATABASE_URL`` (PostgreSQL)
and ``DOSSIER_TEST_REDIS_URL`` set, the same tests run against those servers; each session
gets its own freshly created database and Redis key prefix, so parallel runs never collide.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import dossier.models  # noqa: F401
from dossier.app import create_app
from dossier.config import Settings
from dossier.db.base import Base
from dossier.db.engine import Database, create_database
from dossier.db.migrate import upgrade
from dossier.models.user import Role, User
from tests.factories import create_user

TEST_DATABASE_URL = os.environ.get("DOSSIER_TEST_DATABASE_URL") or None
TEST_REDIS_URL = os.environ.get("DOSSIER_TEST_REDIS_URL") or None
SESSION_TAG = uuid.uuid4().hex[:10]
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"

# Tables outside the ORM metadata (for example full-text indexes) that tests must empty too.
EXTRA_TABLES_TO_CLEAN: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"))
    skip_pg = pytest.mark.skip(reason="needs DOSSIER_TEST_DATABASE_URL (PostgreSQL)")
    skip_redis = pytest.mark.skip(reason="needs DOSSIER_TEST_REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not TEST_REDIS_URL:
            item.add_marker(skip_redis)


def _async_url(url: str) -> str:
    return Settings(_env_file=None, database_url=url).sqlalchemy_url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database that lives for the test session."""
    if TEST_DATABASE_URL is None:
        path = tmp_path_factory.mktemp("db") / "dossier-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(_settings_for(url, tmp_path_factory.mktemp("data")))
        yield url
        return

    import asyncio

    admin_url = make_url(_async_url(TEST_DATABASE_URL))
    name = f"dossier_test_{SESSION_TAG}"

    async def _admin(statement: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(_settings_for(url, tmp_path_factory.mktemp("data")))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _settings_for(url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": url,
        "redis_url": TEST_REDIS_URL,
        "redis_key_prefix": f"dossier-test:{SESSION_TAG}:",
        "secret_key": TEST_SECRET,
        "log_level": "DEBUG",
        # Tests start workers explicitly; the API process runs none unless a test asks.
        "worker_concurrency": 0,
        # Process-wide: freezing after every test app's startup would keep every earlier
        # app's objects out of the collector's reach for the rest of the run.
        "gc_tuning": False,
        # Fifty-request stampedes on two cores keep the event loop busy for seconds; that time
        # counts against a Redis reply's time limit and would fail the deny-list check (503).
        "redis_timeout_seconds": 15.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Build settings for this test's database and a private data dir, with overrides."""

    def factory(**overrides: Any) -> Settings:
        return _settings_for(database_url, tmp_path / "data", **overrides)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """A database handle for service-level tests (the same database the app uses)."""
    db = create_database(settings)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(autouse=True)
async def _clean_database(database_url: str) -> AsyncIterator[None]:
    yield
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + EXTRA_TABLES_TO_CLEAN
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{name}"' for name in tables)
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    await connection.execute(text(f'DELETE FROM "{name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
def _restore_caller_lookup() -> Iterator[None]:
    """``configure_logging`` turns off the standard library's caller lookup process-wide;
    pytest's own log report shows file and line, so each test gets it back."""
    saved = logging._srcfile
    yield
    logging._srcfile = saved


@pytest.fixture(autouse=True)
async def _clean_redis() -> AsyncIterator[None]:
    yield
    if TEST_REDIS_URL is None:
        return
    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"dossier-test:{SESSION_TAG}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def client_for(
    settings: Settings, client: tuple[str, int] = ("203.0.113.7", 51234)
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A started app for other settings than the default, with a client (``make_settings``)."""
    application = create_app(settings, configure_logs=False)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, configure_logs=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def owner(database: Database) -> User:
    return await create_user(database)


@pytest.fixture
async def other(database: Database) -> User:
    return await create_user(database)


@pytest.fixture
async def moderator(database: Database) -> User:
    return await create_user(database, role=Role.MODERATOR)


@pytest.fixture
async def admin(database: Database) -> User:
    return await create_user(database, role=Role.ADMIN)
