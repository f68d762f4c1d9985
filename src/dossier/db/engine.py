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
from sqlalchemy.pool import PoolResetState

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


def _driver_in_transaction(driver: Any) -> bool:
    """Whether the driver connection has a transaction open, asked without a round trip."""
    flag = getattr(driver, "in_transaction", None)  # sqlite3 / aiosqlite
    if isinstance(flag, bool):
        return flag
    probe = getattr(driver, "is_in_transaction", None)  # asyncpg
    if callable(probe):
        return bool(probe())
    return True  # unknown driver: roll back, as the pool would


def _install_reset_on_return(engine: AsyncEngine) -> None:
    """Roll a connection back on its way into the pool only when it holds a transaction.

    The pool's default rolls back every returned connection; after a request's COMMIT that is
    a round trip (a thread hop on aiosqlite, a network round trip on asyncpg) that does
    nothing. The engine is created with ``pool_reset_on_return=None`` and this listener does
    the rollback whenever the driver says a transaction is still open (an abandoned request,
    an error between statements) — the same safety, paid only when needed."""

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        if state.transaction_was_reset or state.terminate_only or not state.asyncio_safe:
            return  # already rolled back, or about to be closed (no I/O allowed then)
        if _driver_in_transaction(dbapi_connection.driver_connection):
            dbapi_connection.rollback()


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
    kwargs: dict[str, Any] = {
        "echo": settings.database_echo,
        "pool_pre_ping": True,
        "pool_reset_on_return": None,  # see _install_reset_on_return
    }
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
    _install_reset_on_return(engine)
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
