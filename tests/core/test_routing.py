"""core.routing.Router: paths outside a router's routes skip them; what matches is unchanged.

Every behaviour test runs against the same app built with plain ``APIRouter`` as well: the
answers must be the same, only fewer routes are tried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Scope

from dossier.core.routing import Router, common_start

tried: list[str] = []


class CountingRoute(APIRoute):
    def matches(self, scope: Scope) -> Any:
        tried.append(self.path)
        return super().matches(scope)


async def plain(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("plain")


def build_app(router_class: type[APIRouter]) -> FastAPI:
    items = router_class(prefix="/items", route_class=CountingRoute)

    @items.get("/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @items.post("")
    async def create() -> dict[str, str]:
        return {"made": "yes"}

    @items.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("live")
        await websocket.close()

    other = router_class(prefix="/other", route_class=CountingRoute)

    @other.get("")
    async def other_root() -> dict[str, str]:
        return {"other": "yes"}

    other.add_route("/plain", plain)  # Starlette's add_route does not add the prefix

    org = router_class(prefix="/orgs/{org}", route_class=CountingRoute)

    @org.get("/members")
    async def members(org: str) -> dict[str, str]:
        return {"org": org}

    inner = router_class(prefix="/inner", route_class=CountingRoute)

    @inner.get("/{name}")
    async def inner_item(name: str) -> dict[str, str]:
        return {"inner": name}

    outer = router_class(prefix="/outer", route_class=CountingRoute)
    outer.include_router(inner, prefix="/deep")

    app = FastAPI()
    app.include_router(other)
    app.include_router(org)
    app.include_router(outer)
    app.include_router(items, prefix="/v9")  # the include's prefix counts as well
    app.include_router(items, prefix="/t/{tenant}")
    app.include_router(items)
    return app


@pytest.fixture(params=[Router, APIRouter], ids=["Router", "APIRouter"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(request.param))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        tried.clear()
        yield http


async def test_the_same_answers_as_a_plain_router(client: httpx.AsyncClient) -> None:
    assert (await client.get("/items/7")).json() == {"id": 7}
    assert (await client.get("/v9/items/3")).json() == {"id": 3}
    assert (await client.post("/v9/items")).json() == {"made": "yes"}
    assert (await client.get("/t/acme/items/4")).json() == {"id": 4}
    assert (await client.get("/orgs/acme/members")).json() == {"org": "acme"}
    assert (await client.get("/outer/deep/inner/x")).json() == {"inner": "x"}
    assert (await client.get("/other")).json() == {"other": "yes"}
    assert (await client.get("/plain")).text == "plain"
    assert (await client.put("/items/3")).status_code == 405  # a partial match, as before
    assert (await client.get("/items/x")).status_code == 422  # path parameter validation
    redirect = await client.get("/items/3/")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://t/items/3"
    assert (await client.get("/nowhere")).status_code == 404


@pytest.mark.parametrize("router_class", [Router, APIRouter], ids=["Router", "APIRouter"])
async def test_websocket_routes_still_match(router_class: type[APIRouter]) -> None:
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/items/live", "raw_path": b"/items/live",
             "root_path": "", "query_string": b"", "headers": [], "scheme": "ws",
             "client": ("127.0.0.1", 1), "server": ("t", 80), "subprotocols": [],
             "asgi": {"version": "3.0"}}  # fmt: skip
    await build_app(router_class)(scope, receive, send)
    assert [message["type"] for message in sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert sent[1]["text"] == "live"


async def test_a_path_outside_every_router_tries_no_route() -> None:
    transport = httpx.ASGITransport(app=build_app(Router))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        tried.clear()
        assert (await http.get("/items/7")).json() == {"id": 7}
        # Not the routes of the routers included before items; "/other" is still asked: its
        # router has a route outside its prefix ("/plain"), so its routes start with "/".
        assert "/orgs/{org}/members" not in tried
        assert "/inner/{name}" not in tried
        assert "/other" in tried
        tried.clear()
        assert (await http.get("/nowhere")).status_code == 404
        assert set(tried) == {"/other"}


def test_the_common_start_of_routes() -> None:
    router = Router(prefix="/api/v1/things")

    @router.get("")
    async def listing() -> None: ...

    @router.get("/{thing_id}")
    async def one() -> None: ...

    assert common_start(router.routes) == "/api/v1/things"
    router.add_route("/elsewhere", plain)
    assert common_start(router.routes) == "/"
    assert common_start([]) == ""


def test_every_app_router_is_one() -> None:
    from dossier.app import create_app
    from dossier.config import Settings

    app = create_app(Settings(_env_file=None, secret_key="x" * 40), configure_logs=False)
    included = [route for route in app.router.routes if hasattr(route, "original_router")]
    assert included
    assert all(isinstance(route.original_router, Router) for route in included)
