"""Alembic environment: async engine, Dossier's settings, batch mode on SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import dossier.models  # noqa: F401  (registers every table on Base.metadata)
from dossier.config import Settings
from dossier.db.base import Base
from dossier.db.engine import create_database
from dossier.db.migrate import include_object

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        include_object=include_object,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    settings: Settings = config.attributes.get("settings") or Settings()
    database = create_database(settings)
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await database.dispose()


def run_migrations_offline() -> None:
    settings: Settings = config.attributes.get("settings") or Settings()
    context.configure(
        url=settings.sqlalchemy_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=settings.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())
