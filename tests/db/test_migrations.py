"""Migrations and models agree, on SQLite and PostgreSQL, and migrations run both ways."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
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
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path)
    await asyncio.to_thread(upgrade, settings)
    assert {table.name for table in Base.metadata.sorted_tables} <= await _table_names(url)
    await asyncio.to_thread(downgrade, settings, "base")
    assert await _table_names(url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, settings)
    assert {table.name for table in Base.metadata.sorted_tables} <= await _table_names(url)


@pytest.mark.postgres
async def test_a_half_built_concurrent_index_is_rebuilt(tmp_path: Path) -> None:
    """Migration 0006 builds its indexes CONCURRENTLY; a build that failed leaves an INVALID
    index behind, which the next upgrade must replace (IF NOT EXISTS alone would keep it)."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import TEST_DATABASE_URL, _async_url

    assert TEST_DATABASE_URL is not None
    admin_url = make_url(_async_url(TEST_DATABASE_URL))
    name = f"dossier_migration_{uuid.uuid4().hex[:10]}"
    url = admin_url.set(database=name).render_as_string(hide_password=False)

    async def run(target: str, statement: str) -> list[Any]:
        engine = create_async_engine(target, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text(statement))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    await run(str(admin_url.render_as_string(hide_password=False)), f'CREATE DATABASE "{name}"')
    try:
        settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path)
        await asyncio.to_thread(upgrade, settings, "0005")
        await run(
            url,
            "INSERT INTO tags (id, name) VALUES (gen_random_uuid(), 'a'), (gen_random_uuid(), 'b')",
        )
        # A concurrent unique build over duplicate values fails and leaves the name INVALID.
        with pytest.raises(Exception, match="could not create unique index"):
            await run(url, "CREATE UNIQUE INDEX CONCURRENTLY ix_users_email_pattern ON tags ((1))")
        validity = (
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_email_pattern'::regclass"
        )
        assert await run(url, validity) == [(False,)]
        await asyncio.to_thread(upgrade, settings)
        assert await run(url, validity) == [(True,)]
        definition = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_users_email_pattern'"
        assert "users USING btree (email text_pattern_ops)" in (await run(url, definition))[0][0]
    finally:
        await run(
            str(admin_url.render_as_string(hide_password=False)),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )
