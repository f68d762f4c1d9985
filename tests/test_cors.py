from __future__ import annotations

from collections.abc import Callable

import httpx
from asgi_lifespan import LifespanManager

from dossier.app import create_app
from dossier.config import Settings


async def _client_for(settings: Settings) -> tuple[LifespanManager, httpx.AsyncClient]:
    app = create_app(settings, configure_logs=False)
    manager = LifespanManager(app)
    await manager.__aenter__()
    return manager, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_listed_origin_is_allowed_and_others_are_not(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(cors_origins=["https://app.example"], cors_allow_credentials=True)
    manager, http = await _client_for(settings)
    try:
        preflight = await http.options(
            "/health/live",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert preflight.headers["access-control-allow-credentials"] == "true"

        allowed = await http.get("/health/live", headers={"Origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "X-Request-ID" in allowed.headers["access-control-expose-headers"]

        other = await http.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        await http.aclose()
        await manager.__aexit__(None, None, None)


async def test_no_cors_headers_without_an_allow_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers
