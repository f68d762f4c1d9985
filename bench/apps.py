"""App factories for benchmarks."""

from __future__ import annotations

from fastapi import FastAPI

from dossier.app import create_app_from_env


def bare_app() -> FastAPI:
    """The same app — routes, dependencies, lifespan, FastAPI's own exception layers — with
    none of Dossier's middleware (the stack is built lazily, on the first request)."""
    app = create_app_from_env()
    app.user_middleware.clear()
    return app
