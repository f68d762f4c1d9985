"""Deprecation headers on every response under a deprecated prefix (errors included)."""

from __future__ import annotations

from datetime import date

import httpx
from fastapi import FastAPI

from dossier.core.deprecation import Deprecation, deprecation_headers
from dossier.middleware.body_limit import BodyLimits
from dossier.middleware.edge import EdgeMiddleware
from dossier.middleware.headers import ResponseHeaders


def test_header_values() -> None:
    headers = dict(deprecation_headers(successor="/api/v2/things", sunset=date(2027, 1, 31)))
    assert headers == {
        "Deprecation": "?1",
        "Sunset": "Sun, 31 Jan 2027 00:00:00 GMT",
        "Link": '</api/v2/things>; rel="successor-version"',
    }
    since = dict(
        deprecation_headers(
            successor="/v2", sunset=date(2027, 1, 31), deprecated_since=date(2026, 1, 1)
        )
    )
    assert since["Deprecation"] == "@1767225600"


async def test_edge_marks_only_the_prefix() -> None:
    app = FastAPI()

    @app.get("/api/v1/things")
    async def things() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/api/v1/thingsmore")
    async def other() -> dict[str, bool]:
        return {"ok": True}

    rule = Deprecation(prefix="/api/v1/things", successor="/api/v2/things", sunset=date(2027, 1, 1))
    wrapped = EdgeMiddleware(
        app,
        headers=ResponseHeaders(hsts=False, deprecations=[rule]),
        deadlines=None,
        body_limits=BodyLimits(1024),
        gzip_minimum_size=1024,
    )
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/api/v1/things")
        assert ok.headers["deprecation"] == "?1"
        assert ok.headers["sunset"] == "Fri, 01 Jan 2027 00:00:00 GMT"
        assert ok.headers["link"] == '</api/v2/things>; rel="successor-version"'
        missing = await client.get("/api/v1/things/nope")
        assert missing.status_code == 404
        assert missing.headers["deprecation"] == "?1"
        assert "deprecation" not in (await client.get("/api/v1/thingsmore")).headers
