"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from dossier.config import Settings
from dossier.db import sqlite

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
        if mode is not None:  # None: autocommit, every statement is its own transaction
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


def _install_liveness_check(engine: AsyncEngine) -> None:
    """Discard a pooled connection the server has closed, without a round trip.

    asyncpg notices the end of the socket (a server restart, a failover, an idle timeout in
    a proxy) as soon as the event loop reads it, and ``is_closed()`` then says so. Raising
    ``DisconnectionError`` at checkout makes the pool drop that connection and hand out
    another, so no request fails on it. A connection that died silently (no FIN, e.g. a
    network partition) is only caught by ``DOSSIER_DATABASE_POOL_PRE_PING``, which pays a
    round trip on every checkout, and bounded by ``DOSSIER_DATABASE_POOL_RECYCLE_SECONDS``."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        probe = getattr(dbapi_connection.driver_connection, "is_closed", None)
        if callable(probe) and probe():
            raise DisconnectionError("the database server closed this connection")


@dataclass
class Database:
    """An engine with its session factories; one per process, opened in the lifespan."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    writer_sessionmaker: async_sessionmaker[AsyncSession]
    reader_sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        async with self.reader_sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _is_sqlite_file(url: str) -> bool:
    """SQLAlchemy's own test: no path, ``:memory:`` or ``mode=memory`` is an in-memory
    database (one static connection, no pool settings)."""
    parsed = make_url(url)
    database = parsed.database or ""
    return database not in ("", ":memory:") and parsed.query.get("mode") != "memory"


def create_database(settings: Settings) -> Database:
    url = settings.sqlalchemy_url
    kwargs: dict[str, Any] = {
        "echo": settings.database_echo,
        # A statement's parameters (password hashes, emails, document text) stay out of
        # exception messages, and so out of the error log, unless SQL echo was asked for.
        "hide_parameters": not settings.database_echo,
        "pool_reset_on_return": None,  # see _install_reset_on_return
    }
    if url.startswith("sqlite+aiosqlite"):
        # The same aiosqlite, one thread hand-off per statement (dossier.db.sqlite).
        url = url.replace("sqlite+aiosqlite", f"sqlite+{sqlite.DRIVER}", 1)
    pool = {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_max_overflow,
        "pool_timeout": settings.database_pool_timeout,
    }
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
        if _is_sqlite_file(url):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            # A queue pool like PostgreSQL's (each connection is a thread in aiosqlite);
            # an in-memory database keeps SQLAlchemy's single static connection.
            kwargs.update(pool)
    else:
        kwargs.update(
            pool,
            pool_pre_ping=settings.database_pool_pre_ping,
            pool_recycle=settings.database_pool_recycle_seconds,
        )
    engine = create_async_engine(url, **kwargs)
    _install_reset_on_return(engine)
    _install_liveness_check(engine)
    writer_engine = engine
    if engine.dialect.name == "sqlite":
        _install_sqlite_pragmas(engine, settings.sqlite_busy_timeout_ms)
        writer_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        reader_engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: None})
    else:
        reader_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    _refuse_writes(reader_engine)
    reader_sessionmaker = async_sessionmaker(reader_engine, expire_on_commit=False, autoflush=False)
    return Database(
        engine=engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        writer_sessionmaker=async_sessionmaker(
            writer_engine, expire_on_commit=False, autoflush=False
        ),
        reader_sessionmaker=reader_sessionmaker,
    )


class ReadOnlySessionError(RuntimeError):
    """A write was attempted in a read-only (autocommit) unit of work: a programming error."""


# First keywords of statements that change data or schema (SQLite and PostgreSQL).
_WRITING = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "REPLACE",
        "MERGE",
        "UPSERT",
        "CREATE",
        "DROP",
        "ALTER",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "VACUUM",
        "REINDEX",
        "COPY",
        "LOCK",
    }
)


def _refuse_writes(reader: AsyncEngine) -> None:
    """The reader engine runs every statement on its own (no transaction), so a write there
    could not be atomic with anything: refuse it before it reaches the driver, whether it
    comes from a flush, a DML construct, ``text()`` or ``exec_driver_sql``. Listeners on an
    engine made by ``execution_options`` stay local to it; writers are not affected."""

    @event.listens_for(reader.sync_engine, "before_cursor_execute")
    def _no_writes(
        _connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        # A compiled statement says what it is; raw SQL is judged by its first word. A write
        # hidden in a CTE or a function call gets through: a guard against mistakes only.
        compiled_write = context is not None and (
            context.isinsert or context.isupdate or context.isdelete or context.isddl
        )
        words = statement.lstrip().split(None, 1)
        if compiled_write or (words and words[0].upper() in _WRITING):
            raise ReadOnlySessionError("a read-only unit of work cannot write")
