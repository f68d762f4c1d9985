from __future__ import annotations

from collections.abc import Callable

import httpx
from asgi_lifespan import LifespanManager

from dossier.app import create_app
from dossier.config import Settings
from tests.conftest import TEST_REDIS_URL
from tests.helpers import assert_problem


async def test_live_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database_and_redis_when_configured(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert ("redis" in body["checks"]) == (TEST_REDIS_URL is not None)
    assert response.headers["cache-control"] == "no-store"


async def _ready(settings: Settings) -> httpx.Response:
    app = create_app(settings, configure_logs=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.get("/health/ready")


async def test_ready_is_503_per_dependency_when_database_is_down(
    make_settings: Callable[..., Settings],
) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    settings = make_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    response = await _ready(settings)
    body = assert_problem(response, 503, "dependency_unavailable")
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "unreachable"
    assert "127.0.0.1" not in response.text
    assert response.headers["retry-after"] == "5"


async def test_ready_is_503_when_redis_is_down(make_settings: Callable[..., Settings]) -> None:
    response = await _ready(make_settings(redis_url="redis://127.0.0.1:1/0"))
    body = assert_problem(response, 503, "dependency_unavailable")
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "down"
    assert "redis" in body["detail"]
