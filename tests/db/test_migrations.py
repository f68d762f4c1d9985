"""Migrations and models agree, on SQLite and PostgreSQL, and migrations run both ways."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import dossier.models  # noqa: F401
from dossier.config import Settings
from dossier.db.base import Base
from dossier.db.migrate import downgrade, include_object, upgrade


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "render_as_batch": connection.dialect.name == "sqlite",
            "include_object": include_object,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


async def _table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}"
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path)  # type: ignore[call-arg]
    await asyncio.to_thread(upgrade, settings)
    assert {table.name for table in Base.metadata.sorted_tables} <= await _table_names(url)
    await asyncio.to_thread(downgrade, settings, "base")
    assert await _table_names(url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, settings)
    assert {table.name for table in Base.metadata.sorted_tables} <= await _table_names(url)
