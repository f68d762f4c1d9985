"""The ``dossier`` command line: serve, migrate, users, …"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from dossier.config import Settings, UnsafeSettingsError

app = typer.Typer(help="Dossier: a self-hostable work API for teams.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
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


@idempotency_app.command("purge")
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records past their lifetime (run it from cron, e.g. hourly)."""
    from dossier.core.idempotency import purge_expired
    from dossier.db.engine import create_database

    settings = _settings()

    async def purge() -> int:
        database = create_database(settings)
        try:
            async with database.writer_sessionmaker() as session, session.begin():
                return await purge_expired(session)
        finally:
            await database.dispose()

    console.print(f"deleted {asyncio.run(purge())} expired idempotency keys")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
