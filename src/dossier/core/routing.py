"""``Router``: an ``APIRouter`` that turns away paths outside its prefix without trying its routes.

FastAPI (0.16x) keeps every included router as one entry of the app's route list and, for each
request, asks the entries in turn whether they match; an entry asks each of its routes (a
regular expression and some bookkeeping per route). A request for the last router's routes, and
every 404, so paid for all the routes before it — about 80 µs per full pass over Dossier's
routes in process, two passes for a 404 (the second looks for a slash redirect;
docs/performance.md). Every route of a router starts with the router's prefix (``APIRouter``
puts it in front of each path), and with the prefix it was included under, so a path that does
not start with both cannot match any of them: this router says so at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import _get_scope_included_router, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


class Router(APIRouter):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        prefix = self.prefix
        included: Any = _get_scope_included_router(scope)
        if isinstance(included, _IncludedRouter) and included.original_router is self:
            prefix = included.include_context.prefix + prefix
        if prefix and not get_route_path(scope).startswith(prefix):
            return Match.NONE, {}
        return super().matches(scope)
