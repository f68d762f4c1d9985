"""Speed rules DESIGN.md states that a test can hold the code to.

FastAPI runs every plain ``def`` endpoint or dependency in the thread pool: a hand-off to a
worker thread and back on each request, which costs more than the trivial lookups such
dependencies do. Route code is ``async def`` unless it is on the explicit list below.
"""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant

from dossier.app import create_app
from dossier.auth.dependencies import LoginForm
from dossier.config import Settings
from tests.auth.test_route_security import _endpoints

# Callables allowed to run in the thread pool. The login form is a class FastAPI builds from
# the form fields; login is rate limited and hashes a password, so the hop does not matter.
THREADED: set[object] = {LoginForm}


def _runs_in_thread_pool(call: object) -> bool:
    if inspect.isclass(call):
        return True  # FastAPI calls the class (its __init__) in the thread pool
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


def _threaded(dependant: Dependant, route: str) -> set[str]:
    found: set[str] = set()
    call = dependant.call
    if call is not None and call not in THREADED and _runs_in_thread_pool(call):
        found.add(f"{route}: {getattr(call, '__qualname__', call)}")
    for sub in dependant.dependencies:
        found |= _threaded(sub, route)
    return found


def threaded_route_code(app: FastAPI) -> list[str]:
    found: set[str] = set()
    for method, path, dependant in _endpoints(app):
        if dependant is not None:
            found |= _threaded(dependant, f"{method} {path}")
    return sorted(found)


def test_endpoints_and_dependencies_do_not_use_the_thread_pool(settings: Settings) -> None:
    app = create_app(settings, configure_logs=False)
    assert threaded_route_code(app) == []


def slow_lookup() -> int:
    return 1


SlowValue = Annotated[int, Depends(slow_lookup)]


def test_the_walk_catches_a_plain_def_dependency(settings: Settings) -> None:
    app = create_app(settings, configure_logs=False)

    @app.get("/api/v1/slow")
    async def slow(value: SlowValue) -> dict[str, int]:
        return {"value": value}

    assert threaded_route_code(app) == ["GET /api/v1/slow: slow_lookup"]
