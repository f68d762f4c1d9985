"""Authenticated task reads against the raw ASGI baseline, on SQLite and on PostgreSQL.

One uvicorn process (uvloop + httptools) pinned to one core, wrk pinned to the other, 64
connections. Rows: ``GET /api/v1/tasks/{id}`` and ``GET /api/v1/tasks?limit=20`` (keyset mode,
20 tasks with two tags each) with a bearer token, next to the raw baseline of the same run.
Goal: the single-task GET reaches ≥ 0.10x the baseline's req/s with p99 under 50 ms.

``--postgres URL`` (default: the local server at 127.0.0.1:5432) runs the PostgreSQL rows in a
fresh database that is dropped afterwards; when it is unreachable those rows are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import Result, machine_line, run_wrk, serve, table, write_section

SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 (bench only)
GOAL_RATIO = 0.10
GOAL_P99_MS = 50.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _settings(url: str, data_dir: str):  # type: ignore[no-untyped-def]
    from dossier.config import Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, data_dir=Path(data_dir), secret_key=SECRET
    )


async def _seed(url: str, data_dir: str, tasks: int = 60) -> tuple[str, str]:
    """Migrate, create a user with ``tasks`` tagged tasks; return (token, one task id)."""
    from dossier.core.security.passwords import hash_password_sync
    from dossier.core.security.tokens import AccessTokenCodec, derive_key
    from dossier.db.engine import create_database
    from dossier.db.migrate import upgrade
    from dossier.models.task import Tag, Task
    from dossier.models.user import User

    settings = _settings(url, data_dir)
    await asyncio.to_thread(upgrade, settings)
    database = create_database(settings)
    try:
        async with database.writer_sessionmaker() as session, session.begin():
            user = User(
                email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                display_name="Bench",
                password_hash=hash_password_sync("bench passphrase 123"),
            )
            session.add(user)
            tags = [Tag(name=f"tag{i}") for i in range(5)]
            session.add_all(tags)
            rows: list[Task] = []
            await session.flush()
            for i in range(tasks):
                rows.append(
                    Task(
                        title=f"Task {i}",
                        description="Something to do " * 4,
                        owner_id=user.id,
                        tags=[tags[i % 5], tags[(i + 1) % 5]],
                    )
                )
            session.add_all(rows)
        codec = AccessTokenCodec(derive_key(SECRET, "jwt-access"))
        token, _ = codec.issue(subject=user.id, role=user.role)
        return token, str(rows[0].id)
    finally:
        await database.dispose()


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(
        _settings(url, tempfile.gettempdir()).sqlalchemy_url, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _rows(label: str, url: str, data_dir: str, duration: int) -> list[Result]:
    token, task_id = asyncio.run(_seed(url, data_dir))
    env = {
        "DOSSIER_DATA_DIR": data_dir,
        "DOSSIER_DATABASE_URL": url,
        "DOSSIER_SECRET_KEY": SECRET,
        "DOSSIER_LOG_LEVEL": "WARNING",
        "DOSSIER_RATE_LIMIT_ENABLED": "false",
        # One pooled connection per load-generator connection: no overflow connections
        # opened and closed under load (docs/performance.md, "Where the time goes").
        "DOSSIER_DATABASE_POOL_SIZE": "64",
        "DOSSIER_DATABASE_MAX_OVERFLOW": "0",
    }
    headers = {"Authorization": f"Bearer {token}"}
    with serve(
        "dossier.app:create_app_from_env", env=env, factory=True, ready_path="/health/live"
    ) as base:
        one = run_wrk(
            f"{label}: GET /api/v1/tasks/{{id}}",
            f"{base}/api/v1/tasks/{task_id}",
            headers=headers,
            duration_s=duration,
        )
        page = run_wrk(
            f"{label}: GET /api/v1/tasks?limit=20",
            f"{base}/api/v1/tasks?limit=20",
            headers=headers,
            duration_s=duration,
        )
    return [one, page]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--postgres", default=os.environ.get("DOSSIER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    results: list[Result] = []
    notes: list[str] = []
    load_before = os.getloadavg()[0]
    with serve("bench.baseline:app") as base:
        first = run_wrk("raw ASGI baseline (before)", base + "/", duration_s=args.duration)
    with tempfile.TemporaryDirectory() as data_dir:
        url = f"sqlite+aiosqlite:///{data_dir}/bench.db"
        results += _rows("SQLite", url, data_dir, args.duration)
    name = f"dossier_bench_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        notes.append(f"PostgreSQL rows skipped: {type(exc).__name__} connecting to it.")
    else:
        pg_url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        try:
            with tempfile.TemporaryDirectory() as data_dir:
                results += _rows("PostgreSQL", pg_url, data_dir, args.duration)
        finally:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    # Other work on a shared machine moves every figure: measure the baseline again at the
    # end and compare against the mean of both runs.
    with serve("bench.baseline:app") as base:
        last = run_wrk("raw ASGI baseline (after)", base + "/", duration_s=args.duration)
    baseline = Result(
        "raw ASGI baseline (mean)",
        (first.requests_per_second + last.requests_per_second) / 2,
        (first.p50_ms + last.p50_ms) / 2,
        (first.p99_ms + last.p99_ms) / 2,
        first.errors + last.errors,
    )
    load_after = os.getloadavg()[0]
    verdicts = []
    for result in results:
        if "{id}" in result.name:
            ok = result.ratio_to(baseline) >= GOAL_RATIO and result.p99_ms < GOAL_P99_MS
            verdicts.append(
                f"- {result.name.split(':')[0]}: {result.ratio_to(baseline):.2f}x, "
                f"p99 {result.p99_ms:.1f} ms — {'meets' if ok else 'misses'} the goal."
            )
    markdown = f"""## Tasks: authenticated reads

{machine_line()}; 64 connections, {args.duration} s per row after a 2 s warm-up; one server
process with the full middleware stack (rate limits off) and a pool of 64 database connections
(one per load-generator connection, no overflow); bearer token checked on every
request (signature and claims verified once per process, expiry, deny-list, principal: the user
row through the principal cache); the list is keyset mode (20 tasks with their tags: 2 queries,
plus the user row on a cache miss).

{table([first, last, baseline, *results], baseline)}

Ratios are to the mean baseline. 1-minute load average: {load_before:.1f} before,
{load_after:.1f} after (2 cores; anything above ~2 means other work shared the cores).

Goal for `GET /api/v1/tasks/{{id}}`: ≥ {GOAL_RATIO:.2f}x the raw baseline with
p99 < {GOAL_P99_MS:.0f} ms.
{chr(10).join(verdicts)}
{chr(10).join(notes)}
Reproduce with `make bench` (or `.venv/bin/python -m bench.run tasks`)."""
    write_section("tasks", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
