"""``Router``: an ``APIRouter`` that turns away paths outside its routes' common start at once.

FastAPI (0.165) keeps every included router as one entry of the app's route list and, for each
request, asks the entries in turn whether they match; an entry asks each of its routes (a
regular expression and some bookkeeping per route), and the matching entry is asked twice. A
request for the last router's routes, and every 404, so paid for all the routes before it —
about 80 µs per full pass over Dossier's routes in process, two passes for a 404 (the second
looks for a slash redirect; docs/performance.md).

A route's regular expression matches its path literally up to the first ``{``, so every path
one of a router's routes can match starts with the common literal start of those routes
(usually the router's prefix), behind the literal part of the prefix the router was included
under. A path that does not start with that cannot match: this router says so at once and its
routes are not tried. Routes added without the router's prefix (Starlette's ``add_route``,
``mount``) and prefixes with path parameters only shorten the common start; a ``Host`` route
turns the check off. The start is worked out again when FastAPI marks the routes changed or
their number changes.

This leans on FastAPI internals (``_IncludedRouter``, the scope's included router), so the
FastAPI version is pinned to its minor release in pyproject.toml; tests/core/test_routing.py
checks the behaviour against plain ``APIRouter``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.routing import _get_scope_included_router, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Host, Match
from starlette.types import Scope


def _literal(path: str) -> str:
    return path.split("{", 1)[0]


def _literal_start(route: BaseRoute) -> str:
    if isinstance(route, _IncludedRouter):
        # The included router's paths start with the prefix it was included under (which
        # holds this router's own prefix).
        return _literal(route.include_context.prefix)
    path = getattr(route, "path", None)
    if isinstance(route, Host) or not isinstance(path, str):
        return ""
    return _literal(path)


def common_start(routes: Sequence[BaseRoute]) -> str:
    """What every path the routes can match starts with ("" when nothing can be said)."""
    if not routes:
        return ""
    # Character by character on purpose: literal starts, not path components.
    return os.path.commonprefix([_literal_start(route) for route in routes])  # noqa: RUF071


class Router(APIRouter):
    # (number of routes, their common start); Starlette's ``mount`` adds a route without
    # telling FastAPI, hence the count next to the changed-routes mark.
    _start: tuple[int, str] | None = None

    def _mark_routes_changed(self) -> None:
        super()._mark_routes_changed()
        self._start = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        cached = self._start
        if cached is None or cached[0] != len(self.routes):
            cached = self._start = (len(self.routes), common_start(self.routes))
        start = cached[1]
        included: Any = _get_scope_included_router(scope)
        if isinstance(included, _IncludedRouter) and included.original_router is self:
            outer = included.include_context.prefix
            start = _literal(outer) if "{" in outer else outer + start
        if start and not get_route_path(scope).startswith(start):
            return Match.NONE, {}
        return super().matches(scope)
