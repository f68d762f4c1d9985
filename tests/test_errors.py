"""Every error response is RFC 9457 problem+json, and nothing internal leaks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from dossier.app import create_app
from dossier.config import Settings
from dossier.core import errors
from dossier.db.session import SessionDep
from tests.helpers import assert_problem

DOMAIN_ERRORS = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.DomainError)
]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=10)
    count: int


@pytest.fixture
async def probe_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings, configure_logs=False)

    @app.post("/_probe/echo")
    async def echo(payload: Payload) -> Payload:
        return payload

    @app.get("/_probe/domain/{name}")
    async def raise_domain(name: str) -> None:
        raise getattr(errors, name)()

    @app.get("/_probe/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals at /srv/dossier/app.py: SELECT password_hash")

    @app.post("/_probe/duplicate")
    async def duplicate(session: SessionDep) -> None:
        insert = text(
            "INSERT INTO users (id, email, display_name, role, is_active, password_hash,"
            " created_at, updated_at) VALUES (:id, 'dup@example.com', 'd', 'user', true, 'x',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        await session.execute(insert, {"id": "0" * 32})
        await session.execute(insert, {"id": "1" * 32})

    async with LifespanManager(app):
        yield app


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_unknown_path_is_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/thing"), 404, "not_found")
    assert body["instance"] == "/no/such/thing"
    assert body["type"] == "urn:dossier:problem:not_found"


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health/live")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_400(probe: httpx.AsyncClient) -> None:
    response = await probe.post(
        "/_probe/echo", content=b'{"name": "x", ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


async def test_validation_error_is_422_with_errors(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/_probe/echo", json={"name": "", "count": "many", "extra": 1})
    body = assert_problem(response, 422, "validation_failed")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert ("body", "name") in locations
    assert ("body", "count") in locations
    assert ("body", "extra") in locations
    for error in body["errors"]:
        assert set(error) == {"loc", "msg", "type"}


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
async def test_every_domain_error_renders_as_problem(
    probe: httpx.AsyncClient, error: type[errors.DomainError]
) -> None:
    response = await probe.get(f"/_probe/domain/{error.__name__}")
    body = assert_problem(response, error.status, error.code)
    assert body["detail"] == error.default_detail
    if error.status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unhandled_exception_is_generic_500_and_logged(
    probe: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import logging

    from dossier.core.logging import configure_logging

    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    try:
        response = await probe.get("/_probe/crash", headers={"X-Request-ID": "crash-1"})
    finally:
        logging.getLogger().handlers.clear()
    body = assert_problem(response, 500, "internal_error")
    for leak in ("secret internals", "/srv/dossier", "SELECT", "Traceback", "RuntimeError"):
        assert leak not in response.text
    assert body["detail"] == "An unexpected error occurred."
    logged = buffer.getvalue()
    assert "unhandled_exception" in logged
    assert "Traceback" in logged
    assert '"request_id": "crash-1"' in logged


async def test_integrity_error_is_409_without_sql(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/_probe/duplicate")
    assert_problem(response, 409, "conflict")
    for leak in ("INSERT", "users", "UNIQUE", "duplicate key"):
        assert leak not in response.text


async def test_openapi_declares_problem_schema_not_fastapi_default(
    probe: httpx.AsyncClient,
) -> None:
    document = (await probe.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "Problem" in schemas
    echo = document["paths"]["/_probe/echo"]["post"]["responses"]
    for status in ("400", "413", "422", "500"):
        content = echo[status]["content"]
        assert content["application/problem+json"]["schema"]["$ref"] == (
            "#/components/schemas/Problem"
        )


async def test_control_characters_in_text_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "nul@example.com",
            "password": "a long passphrase",
            "display_name": "a\x00b",
        },
    )
    body = assert_problem(response, 422, "validation_failed")
    assert ["body", "display_name"] in [error["loc"] for error in body["errors"]]


@pytest.mark.postgres
async def test_values_the_database_refuses_are_422_without_sql(
    probe_app: FastAPI, probe: httpx.AsyncClient
) -> None:
    @probe_app.post("/_probe/nul")
    async def nul(session: SessionDep) -> None:
        await session.execute(text("SELECT CAST(:value AS text)"), {"value": "a\x00b"})

    response = await probe.post("/_probe/nul")
    assert_problem(response, 422, "invalid_value")
    assert "SELECT" not in response.text
