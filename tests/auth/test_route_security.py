"""Every route requires authentication unless it is on the explicit public list."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from dossier.app import create_app
from dossier.auth.dependencies import get_principal
from dossier.config import Settings

# (method, path) pairs anyone may call. Adding a route here is a security decision.
PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),  # authenticated by the refresh token itself
    ("POST", "/api/v1/auth/logout"),  # likewise; a presented access token is checked too
}
PUBLIC_PATH_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static", "/metrics")


def _calls(dependant: Dependant) -> set[object]:
    found: set[object] = {dependant.call} if dependant.call is not None else set()
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _endpoints(app: FastAPI) -> list[tuple[str, str, Dependant | None]]:
    """(method, path, dependant) of every route, routers included (with their prefixes and
    router-level dependencies, as FastAPI resolves them)."""
    found: list[tuple[str, str, Dependant | None]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if isinstance(route, Mount):
            found.append(("*", path, None))
            continue
        dependant = context.dependant if isinstance(route, APIRoute) else None
        for method in sorted(context.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, path, dependant))
    return found


def unprotected_routes(app: FastAPI) -> list[str]:
    problems = []
    for method, path, dependant in _endpoints(app):
        if (method, path) in PUBLIC or path.startswith(PUBLIC_PATH_PREFIXES):
            continue
        if dependant is not None and get_principal in _calls(dependant):
            continue
        problems.append(f"{method} {path}")
    return problems


def test_every_route_requires_authentication_unless_public(settings: Settings) -> None:
    app = create_app(settings, configure_logs=False)
    assert unprotected_routes(app) == []
    # The walk sees the routes it should: the users API is in it and protected.
    paths = {path for _method, path, _dependant in _endpoints(app)}
    assert "/api/v1/users/{user_id}" in paths


def test_the_walk_catches_an_unprotected_route(settings: Settings) -> None:
    app = create_app(settings, configure_logs=False)

    @app.get("/api/v1/leaky")
    async def leaky() -> dict[str, str]:
        return {}

    assert unprotected_routes(app) == ["GET /api/v1/leaky"]
