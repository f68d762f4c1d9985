"""The API docs work offline: every asset is served by Dossier itself."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page references no assets"
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 100
    assert "cdn." not in html
    assert "fonts.googleapis" not in html


async def test_swagger_ui_oauth2_redirect_is_served(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    assert "/docs/oauth2-redirect" in page
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["info"]["title"] == "Dossier"
    assert "/health/ready" in document["paths"]
