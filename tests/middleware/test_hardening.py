"""Security headers, cache policy, trusted hosts, gzip, body limits and the time limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from dossier.app import create_app
from dossier.config import Settings
from dossier.db.engine import Database
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem


def _with_probes(app: FastAPI) -> FastAPI:
    @app.post("/_probe/body")
    async def body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/_probe/big")
    async def big() -> dict[str, str]:
        return {"text": "dossier " * 1000}

    @app.get("/_probe/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "late"}

    @app.get("/_probe/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            # The response starts at once; its first chunk comes after the 0.2 s limit.
            for index in range(3):
                await asyncio.sleep(0.15)
                yield f"chunk {index}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/api/v1/auth/probe")
    async def auth_probe() -> dict[str, str]:
        return {"token": "x"}

    return app


@pytest.fixture
def build(make_settings: Callable[..., Settings]) -> Callable[..., object]:
    def factory(**overrides: object) -> FastAPI:
        return _with_probes(create_app(make_settings(**overrides), configure_logs=False))

    return factory


async def _call(app: FastAPI, method: str, url: str, **kwargs: object) -> httpx.Response:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.request(method, url, **kwargs)  # type: ignore[arg-type]


async def test_security_headers_on_api_responses(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health/live"), await client.get("/missing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers  # development


async def test_docs_get_a_policy_that_lets_them_run(client: httpx.AsyncClient) -> None:
    csp = (await client.get("/docs")).headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


async def test_hsts_in_production(build: Callable[..., FastAPI]) -> None:
    app = build(
        env="production",
        allow_sqlite_in_production=True,
        docs_enabled=False,
        metrics_enabled=False,
    )
    response = await _call(app, "GET", "/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cache_policy(build: Callable[..., FastAPI]) -> None:
    app = build()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/api/v1/auth/probe")).headers["cache-control"] == "no-store"
            assert (await http.get("/_probe/big")).headers["cache-control"] == "private, no-cache"
            # a route's own policy wins (readiness is never cached)
            assert (await http.get("/health/ready")).headers["cache-control"] == "no-store"


async def test_untrusted_host_is_refused(build: Callable[..., FastAPI]) -> None:
    app = build(trusted_hosts=["api.example.com", "*.dossier.test"])
    async with LifespanManager(app):
        for host, status in (
            ("api.example.com", 200),
            ("api.example.com:8443", 200),
            ("eu.dossier.test", 200),
            ("evil.example.com", 400),
            ("dossier.test.evil.com", 400),
        ):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as http:
                response = await http.get("/health/live")
            assert response.status_code == status, host
            if status == 400:
                assert_problem(response, 400, "invalid_host")


async def test_large_responses_are_gzipped(client: httpx.AsyncClient) -> None:
    small = await client.get("/health/live", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    document = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert document.headers["content-encoding"] == "gzip"
    assert document.json()["info"]["title"] == "Dossier"  # httpx decoded it
    assert "accept-encoding" in document.headers["vary"].lower()


async def test_clients_that_do_not_accept_gzip_get_identity(client: httpx.AsyncClient) -> None:
    for accept in ("identity", "br", None):
        headers = {"Accept-Encoding": accept} if accept else {}
        request = client.build_request("GET", "/openapi.json", headers=headers)
        if accept is None:
            del request.headers["Accept-Encoding"]  # httpx sends gzip unless told otherwise
        response = await client.send(request)
        assert response.status_code == 200
        assert "content-encoding" not in response.headers, accept
        assert response.json()["info"]["title"] == "Dossier"


async def test_declared_body_over_the_limit_is_413(build: Callable[..., FastAPI]) -> None:
    app = build(max_request_body_bytes=1000)
    response = await _call(app, "POST", "/_probe/body", content=b"x" * 1001)
    assert_problem(response, 413, "payload_too_large")
    ok = await _call(app, "POST", "/_probe/body", content=b"x" * 1000)
    assert ok.json() == {"size": 1000}


async def test_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(
    build: Callable[..., FastAPI],
) -> None:
    app = build(max_request_body_bytes=1000)
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 400
            yield b"y" * 400

    response = await _call(app, "POST", "/_probe/body", content=chunks())
    assert_problem(response, 413, "payload_too_large")
    assert sent < 100 * 400, "the whole body was read before refusing it"


async def test_uploads_have_their_own_limit(
    build: Callable[..., FastAPI], database: Database
) -> None:
    app = build(max_request_body_bytes=1000, max_upload_bytes=10_000)
    headers = auth_headers(app, await create_user(database))
    ok = await _call(
        app, "POST", "/api/v1/documents", headers=headers, files={"file": ("a.txt", b"z" * 5000)}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["size_bytes"] == 5000
    too_big = await _call(app, "POST", "/api/v1/documents", content=b"z" * 200_000)
    assert_problem(too_big, 413, "payload_too_large")


async def test_overrunning_handler_gets_503(build: Callable[..., FastAPI]) -> None:
    app = build(request_timeout_seconds=0.2)
    response = await _call(app, "GET", "/_probe/slow")
    body = assert_problem(response, 503, "request_timeout")
    assert "0.2" in body["detail"]
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_streams_are_limited_only_until_they_start(
    build: Callable[..., FastAPI], encoding: str
) -> None:
    """Also when gzip holds the response's start back until the first chunk (past the limit)."""
    app = build(request_timeout_seconds=0.2)
    response = await _call(app, "GET", "/_probe/stream", headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.text == "chunk 0\nchunk 1\nchunk 2\n"
    assert (response.headers.get("content-encoding") == "gzip") is (encoding == "gzip")


async def test_answers_of_the_edge_and_the_body_limit_carry_cors_headers(
    build: Callable[..., FastAPI],
) -> None:
    """413, 503 and the last-resort 500 are readable by the browser that asked."""
    origin = "https://app.example.com"
    app = build(request_timeout_seconds=0.2, cors_origins=[origin], max_request_body_bytes=100)

    @app.get("/_probe/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    cors = {"Origin": origin}
    too_big = await _call(app, "POST", "/_probe/body", content=b"x" * 500, headers=cors)
    slow = await _call(app, "GET", "/_probe/slow", headers=cors)
    crashed = await _call(app, "GET", "/_probe/crash", headers=cors)
    for response, status in ((too_big, 413), (slow, 503), (crashed, 500)):
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
    plain = await _call(app, "GET", "/_probe/slow")  # no Origin: no CORS headers
    assert plain.status_code == 503
    assert "access-control-allow-origin" not in plain.headers
