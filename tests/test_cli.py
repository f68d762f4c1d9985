"""The command line, run as a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dossier.db.engine import Database
from dossier.models.user import Role, User


def run_cli(
    *args: str,
    database_url: str,
    data_dir: Path,
    stdin: str = "",
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
    env.update(DOSSIER_DATABASE_URL=database_url, DOSSIER_DATA_DIR=str(data_dir))
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "dossier", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_create_admin_from_stdin(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    import asyncio

    result = await asyncio.to_thread(
        run_cli,
        "users",
        "create-admin",
        "--email",
        " Boss@Example.COM ",
        "--password-stdin",
        database_url=database_url,
        data_dir=tmp_path,
        stdin="correct horse battery\n",
    )
    assert result.returncode == 0, result.stderr
    assert "correct horse battery" not in result.stdout + result.stderr
    async with database.sessionmaker() as session:
        user = (await session.scalars(select(User))).one()
    assert user.email == "boss@example.com"
    assert user.role == Role.ADMIN
    assert user.is_active
    assert user.password_hash.startswith("$argon2id$")

    again = await asyncio.to_thread(
        run_cli,
        "users",
        "create-admin",
        "--email",
        "boss@example.com",
        "--password-stdin",
        database_url=database_url,
        data_dir=tmp_path,
        stdin="another good one\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("not-an-email", "long enough pw", "invalid email"), ("a@example.com", "short", "at least")],
)
def test_create_admin_rejects_bad_input(
    database_url: str, tmp_path: Path, email: str, password: str, message: str
) -> None:
    result = run_cli(
        "users",
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        database_url=database_url,
        data_dir=tmp_path,
        stdin=password + "\n",
    )
    assert result.returncode == 1
    assert message in result.stderr


def test_module_entry_point_and_migrate(database_url: str, tmp_path: Path) -> None:
    result = run_cli("--help", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "users"):
        assert command in result.stdout
    migrated = run_cli("migrate", database_url=database_url, data_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr


def test_unsafe_production_settings_stop_the_cli(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
    env.update(DOSSIER_ENV="production", DOSSIER_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "dossier", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "DOSSIER_SECRET_KEY is not set" in result.stderr


def test_serve_refuses_several_processes_without_redis(database_url: str, tmp_path: Path) -> None:
    result = run_cli("serve", "--workers", "2", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 2
    assert "needs DOSSIER_REDIS_URL" in result.stderr


async def test_idempotency_purge_deletes_only_expired_keys(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    import asyncio
    from datetime import timedelta

    from dossier.core.clock import utcnow
    from dossier.models.idempotency import IdempotencyRecord
    from tests.factories import create_user

    user = await create_user(database)
    now = utcnow()
    async with database.writer_sessionmaker() as session, session.begin():
        for key, expires in (("old", now - timedelta(hours=1)), ("live", now + timedelta(hours=1))):
            session.add(
                IdempotencyRecord(
                    user_id=user.id, key=key, method="POST", path="/x", fingerprint="f",
                    state="completed", locked_until=now, expires_at=expires,
                )
            )  # fmt: skip
    result = await asyncio.to_thread(
        run_cli, "idempotency", "purge", database_url=database_url, data_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "deleted 1 expired idempotency keys" in result.stdout + result.stderr
    async with database.sessionmaker() as session:
        keys = list(await session.scalars(select(IdempotencyRecord.key)))
    assert keys == ["live"]
