"""core.routing.Router: paths outside a router's prefix skip its routes; matching is unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import Scope

from dossier.core.routing import Router

tried: list[str] = []


class CountingRoute(APIRoute):
    def matches(self, scope: Scope) -> Any:
        tried.append(self.path)
        return super().matches(scope)


def build_app() -> FastAPI:
    items = Router(prefix="/items", route_class=CountingRoute)

    @items.get("/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @items.post("")
    async def create() -> dict[str, str]:
        return {"made": "yes"}

    other = Router(prefix="/other", route_class=CountingRoute)

    @other.get("")
    async def other_root() -> dict[str, str]:
        return {"other": "yes"}

    app = FastAPI()
    app.include_router(other)
    app.include_router(items, prefix="/v9")  # the include's prefix counts as well
    app.include_router(items)
    return app


@pytest.fixture
async def client() -> Any:
    transport = httpx.ASGITransport(app=build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        tried.clear()
        yield http


async def test_a_path_outside_the_prefix_never_tries_the_routers_routes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/items/7")
    assert response.json() == {"id": 7}
    assert "/other" not in tried  # the first router turned the path away by its prefix
    tried.clear()
    assert (await client.get("/nowhere")).status_code == 404
    assert tried == []


async def test_routes_under_an_include_prefix_and_method_mismatches_still_match(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/v9/items/3")).json() == {"id": 3}
    assert (await client.post("/v9/items")).json() == {"made": "yes"}
    assert (await client.get("/other")).json() == {"other": "yes"}
    assert (await client.put("/items/3")).status_code == 405  # a partial match, as before
    assert (await client.get("/items/x")).status_code == 422  # path parameter validation
    assert (await client.get("/items/3/")).status_code in (200, 307)  # slash redirect kept


def test_every_app_router_turns_foreign_paths_away() -> None:
    from dossier.app import create_app
    from dossier.config import Settings

    app = create_app(Settings(_env_file=None, secret_key="x" * 40), configure_logs=False)  # type: ignore[call-arg]
    included = [route for route in app.router.routes if hasattr(route, "original_router")]
    assert included
    assert all(isinstance(route.original_router, Router) for route in included)
