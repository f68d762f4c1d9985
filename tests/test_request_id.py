from __future__ import annotations

import httpx
import pytest


async def test_well_formed_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "req-42.abc:1"})
    assert response.headers["x-request-id"] == "req-42.abc:1"


@pytest.mark.parametrize(
    "bad", ["", "has space", "x" * 200, "<script>", "-leading-dash", "ünïcode"]
)
async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/health/live", headers={b"X-Request-ID": bad.encode()})
    generated = response.headers["x-request-id"]
    assert generated != bad
    assert len(generated) == 32
    int(generated, 16)


async def test_every_response_gets_a_fresh_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health/live")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_error_responses_carry_the_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/missing", headers={"X-Request-ID": "trace-me"})
    assert response.headers["x-request-id"] == "trace-me"
    assert response.json()["request_id"] == "trace-me"
