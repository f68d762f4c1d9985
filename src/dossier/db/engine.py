"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dossier.config import Settings

SQLITE_BEGIN_OPTION = "sqlite_begin"


def _install_sqlite_pragmas(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    # The sqlite3 module's own transaction handling issues BEGIN lazily and ignores
    # BEGIN IMMEDIATE; take over so every transaction begins where SQLAlchemy says it does,
    # and writers can ask for an IMMEDIATE transaction (no lock upgrade, no SQLITE_BUSY
    # half-way through a unit of work).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """An engine with its session factories; one per process, opened in the lifespan."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    writer_sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(settings: Settings) -> Database:
    url = settings.sqlalchemy_url
    kwargs: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        if ":memory:" not in url and "mode=memory" not in url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
        kwargs["pool_pre_ping"] = False
    else:
        kwargs.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
    engine = create_async_engine(url, **kwargs)
    writer_engine = engine
    if engine.dialect.name == "sqlite":
        _install_sqlite_pragmas(engine, settings.sqlite_busy_timeout_ms)
        writer_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return Database(
        engine=engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        writer_sessionmaker=async_sessionmaker(
            writer_engine, expire_on_commit=False, autoflush=False
        ),
    )
