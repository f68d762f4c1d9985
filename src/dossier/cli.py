"""The ``dossier`` command line: serve, migrate, users, …"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dossier.config import Settings, UnsafeSettingsError

app = typer.Typer(help="Dossier: a self-hostable work API for teams.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
documents_app = typer.Typer(help="Import and re-index documents.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")
jobs_app = typer.Typer(help="Inspect and manage background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
idempotency_app = typer.Typer(help="Stored Idempotency-Key outcomes.", no_args_is_help=True)
app.add_typer(idempotency_app, name="idempotency")

console = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_safe()
    except UnsafeSettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [DOSSIER_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [DOSSIER_PORT].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = _settings()
    if workers > 1 and not reload and settings.redis_url is None:
        # Each process would keep its own deny-list, rate-limit counters and cache: a logout
        # or a deactivation seen by one process would not be seen by the others.
        console.print(
            "[red]--workers > 1 needs DOSSIER_REDIS_URL: without Redis every process keeps its "
            "own deny-list, rate limits and cache.[/red]"
        )
        raise typer.Exit(2)
    processes = 1 if reload else workers
    with _worker_metrics(settings, processes):
        uvicorn.run(
            "dossier.app:create_app_from_env",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=None if reload else workers,
            reload=reload,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=30,
        )


@contextlib.contextmanager
def _worker_metrics(settings: Settings, processes: int) -> Iterator[None]:
    """Several worker processes share their metrics through prometheus-client's multiprocess
    mode (a scrape of any of them, or of the metrics port, sums all of them); this process
    sets it up before they start and serves ``DOSSIER_METRICS_PORT`` itself."""
    if processes < 2 or not settings.metrics_enabled:
        yield
        return
    from dossier.core.metrics_port import (
        MULTIPROC_ENV,
        SUPERVISOR_ENV,
        serve_workers_metrics,
        use_samples_dir,
    )

    own = use_samples_dir()
    server = None
    try:
        if settings.metrics_port is not None:
            server = serve_workers_metrics(settings.metrics_port, settings.host)
        yield
    finally:
        if server is not None:
            server.shutdown()
            os.environ.pop(SUPERVISOR_ENV, None)
        if own is not None:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(own, ignore_errors=True)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (up to the latest by default)."""
    from dossier.core.logging import configure_logging
    from dossier.db.migrate import upgrade

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format, stream=sys.stderr)
    upgrade(settings, revision)
    console.print(f"database at revision [bold]{revision}[/bold]")


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email address.")],
    display_name: Annotated[str | None, typer.Option(help="Shown name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an administrator (prompts for the password without echo)."""
    from dossier.users.admin import AdminCreationError, create_admin_user

    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = asyncio.run(
            create_admin_user(settings, email=email, password=password, display_name=display_name)
        )
    except AdminCreationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"created administrator {email} ({user_id})")


def _progress() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=console,
    )


@documents_app.command("import")
def documents_import(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (searched recursively).")],
    owner: Annotated[str, typer.Option(help="Email of the user who will own the documents.")],
) -> None:
    """Upload and ingest files, with a progress bar; exits 1 if any file failed."""
    from dossier.core.logging import configure_logging

    settings = _settings()
    configure_logging("WARNING", settings.log_format, stream=sys.stderr)
    from dossier.documents.bulk import OwnerNotFound, expand_paths

    try:
        files = expand_paths(paths)
    except FileNotFoundError as exc:
        console.print(f"[red]no such file or folder: {exc}[/red]")
        raise typer.Exit(2) from exc
    try:
        summary = asyncio.run(_import(settings, owner, files))
    except OwnerNotFound as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for outcome in summary.failed:
        console.print(f"[red]failed[/red] {outcome.path}: {outcome.error}")
    done = len(summary.outcomes) - len(summary.failed)
    console.print(f"imported {done} of {len(summary.outcomes)} file(s)")
    if summary.failed:
        raise typer.Exit(1)


async def _import(settings: Settings, owner: str, files: list[Path]) -> Any:
    from dossier.core.storage import create_storage
    from dossier.db.engine import create_database
    from dossier.documents.bulk import Summary, find_owner, import_file
    from dossier.documents.pool import create_extraction_pool, pool_runner

    database = create_database(settings)
    storage = create_storage(settings)
    pool = create_extraction_pool(settings.documents_extraction_processes)
    summary = Summary()
    try:
        principal = await find_owner(database, owner)
        with _progress() as progress:
            task = progress.add_task("importing", total=len(files), current="")
            for path in files:
                progress.update(task, current=path.name)
                outcome = await import_file(
                    database, storage, settings, principal, path, run_cpu=pool_runner(pool)
                )
                summary.outcomes.append(outcome)
                progress.advance(task)
    finally:
        pool.shutdown(cancel_futures=True)
        await storage.close()
        await database.dispose()
    return summary


@documents_app.command("reindex")
def documents_reindex(
    index_only: Annotated[
        bool,
        typer.Option(
            "--index-only", help="Only rebuild the full-text index from the stored chunks."
        ),
    ] = False,
) -> None:
    """Re-extract and re-index every document (progress bar), then rebuild the index."""
    from dossier.core.logging import configure_logging

    settings = _settings()
    configure_logging("WARNING", settings.log_format, stream=sys.stderr)
    failed = asyncio.run(_reindex(settings, index_only=index_only))
    if failed:
        raise typer.Exit(1)


async def _reindex(settings: Settings, *, index_only: bool) -> int:
    from dossier.core.storage import create_storage
    from dossier.db.engine import create_database
    from dossier.documents.bulk import rebuild_search_index, reingest_all
    from dossier.documents.pool import create_extraction_pool, pool_runner

    database = create_database(settings)
    storage = create_storage(settings)
    try:
        if index_only:
            await rebuild_search_index(database)
            console.print("search index rebuilt")
            return 0
        pool = create_extraction_pool(settings.documents_extraction_processes)
        try:
            with _progress() as progress:
                task = progress.add_task("re-indexing", total=None, current="")
                summary = await reingest_all(
                    database,
                    storage,
                    settings,
                    run_cpu=pool_runner(pool),
                    on_total=lambda total: progress.update(task, total=total),
                    on_done=lambda outcome: progress.update(
                        task, advance=1, current=str(outcome.document_id)
                    ),
                )
        finally:
            pool.shutdown(cancel_futures=True)
        for outcome in summary.failed:
            console.print(f"[red]failed[/red] {outcome.path}: {outcome.error}")
        console.print(
            f"re-indexed {len(summary.outcomes) - len(summary.failed)} of "
            f"{len(summary.outcomes)} document(s)"
        )
        return len(summary.failed)
    finally:
        await storage.close()
        await database.dispose()


def _split(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 4,
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kinds", help="Only these kinds (repeat or comma separated)."),
    ] = None,
    modules: Annotated[
        list[str] | None,
        typer.Option("--import", help="Extra modules registering job kinds [DOSSIER_JOB_MODULES]."),
    ] = None,
) -> None:
    """Run job workers until SIGTERM (drains) or a second SIGTERM (releases at once)."""
    from dossier.app import import_job_handlers
    from dossier.core.logging import configure_logging
    from dossier.core.memory import tune_garbage_collector
    from dossier.db.engine import create_database
    from dossier.jobs import Worker

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format, stream=sys.stderr)
    import_job_handlers(settings, _split(modules))

    async def run() -> None:
        database = create_database(settings)
        if settings.gc_tuning:
            tune_garbage_collector()
        try:
            await Worker(
                database=database,
                settings=settings,
                concurrency=concurrency,
                kinds=_split(kinds) or None,
            ).run()
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List jobs, dead letters first, then newest first."""
    from rich.table import Table

    from dossier.jobs.admin import list_jobs

    rows = asyncio.run(list_jobs(_settings(), status=status, kind=kind, limit=limit))
    table = Table("id", "kind", "status", "attempts", "created_at", "last_error")
    for job in rows:
        table.add_row(
            str(job.id),
            job.kind,
            job.status,
            f"{job.attempts}/{job.max_attempts}",
            job.created_at.isoformat(timespec="seconds"),
            (job.last_error or "")[:60],
        )
    Console().print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Print one job as JSON."""
    import json

    from dossier.jobs.admin import job_as_dict, show_job

    job = asyncio.run(show_job(_settings(), _job_uuid(job_id)))
    if job is None:
        console.print(f"[red]no job {job_id}[/red]")
        raise typer.Exit(1)
    print(json.dumps(job_as_dict(job), indent=2, default=str))


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Queue a failed or dead job again with fresh attempts."""
    from dossier.jobs.admin import retry_job

    if not asyncio.run(retry_job(_settings(), _job_uuid(job_id))):
        console.print(f"[red]job {job_id} does not exist or is not failed/dead[/red]")
        raise typer.Exit(1)
    console.print(f"job {job_id} queued again")


@jobs_app.command("purge")
def jobs_purge(
    older_than_days: Annotated[
        float | None,
        typer.Option(min=0, help="Age of finished jobs to delete [DOSSIER_JOB_RETENTION_DAYS]."),
    ] = None,
) -> None:
    """Delete finished jobs older than the retention now (workers also do it on a schedule)."""
    from dossier.jobs.admin import purge_jobs

    settings = _settings()
    days = settings.job_retention_days if older_than_days is None else older_than_days
    count = asyncio.run(purge_jobs(settings, older_than_days=days))
    console.print(f"purged {count} finished job(s)")


def _job_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        console.print(f"[red]not a job id: {value}[/red]")
        raise typer.Exit(2) from exc


@idempotency_app.command("purge")
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records past their lifetime now (workers also do it on their
    purge schedule)."""
    from dossier.db.engine import create_database
    from dossier.jobs.maintenance import purge_expired_idempotency_keys

    settings = _settings()

    async def purge() -> int:
        database = create_database(settings)
        try:
            return await purge_expired_idempotency_keys(database)
        finally:
            await database.dispose()

    console.print(f"deleted {asyncio.run(purge())} expired idempotency keys")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
