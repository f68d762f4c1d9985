"""Idempotency-Key through a probe creating POST (real users table, real key table)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.core.errors import ServiceUnavailable
from dossier.core.idempotency import IdempotentRoute, purge_expired, request_fingerprint
from dossier.db.engine import Database
from dossier.db.session import SessionDep
from dossier.models.idempotency import IdempotencyRecord
from dossier.models.user import User
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem


class ProbeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    fail: bool = False


def probe_router(gate: dict[str, asyncio.Event]) -> APIRouter:
    router = APIRouter(route_class=IdempotentRoute)

    @router.post("/probe/things", status_code=201)
    async def create(body: ProbeCreate, session: SessionDep, response: Response) -> Any:
        if body.fail:
            raise ServiceUnavailable("try later")
        if body.name == "slow":
            gate["entered"].set()
            await gate["release"].wait()
        user = User(
            email=f"{uuid.uuid4().hex}@example.com",
            display_name=body.name,
            password_hash="x",
        )
        session.add(user)
        await session.flush()
        response.headers["Location"] = f"/probe/things/{user.id}"
        return {"id": str(user.id), "name": body.name}

    @router.get("/probe/things")
    async def not_idempotent() -> Any:
        return {"ok": True}

    return router


@pytest.fixture
async def probe_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, configure_logs=False)
    application.state.gate = {"entered": asyncio.Event(), "release": asyncio.Event()}
    application.include_router(probe_router(application.state.gate))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _count(database: Database, name: str) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(User.display_name == name)) or 0)


async def test_retry_replays_the_first_response(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "key-1"}
    first = await probe.post("/probe/things", json={"name": "a"}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    # Same content, other key order and spacing: the same request.
    again = await probe.post(
        "/probe/things",
        content=b'{ "name" : "a" }',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert await _count(database, "a") == 1


async def test_same_key_other_body_is_422(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "key-2"}
    assert (
        await probe.post("/probe/things", json={"name": "b"}, headers=headers)
    ).status_code == 201
    other = await probe.post("/probe/things", json={"name": "c"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    assert await _count(database, "c") == 0


async def test_keys_are_scoped_per_user(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    alice, bob = await create_user(database), await create_user(database)
    for user in (alice, bob):
        response = await probe.post(
            "/probe/things",
            json={"name": "shared"},
            headers={**auth_headers(probe_app, user), "Idempotency-Key": "same"},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await _count(database, "shared") == 2


async def test_in_flight_key_is_409(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "slow-key"}
    gate = probe_app.state.gate
    first = asyncio.create_task(probe.post("/probe/things", json={"name": "slow"}, headers=headers))
    await asyncio.wait_for(gate["entered"].wait(), 10)
    busy = await probe.post("/probe/things", json={"name": "slow"}, headers=headers)
    assert_problem(busy, 409, "idempotency_key_in_use")
    assert int(busy.headers["retry-after"]) >= 1
    gate["release"].set()
    assert (await asyncio.wait_for(first, 10)).status_code == 201
    replay = await probe.post("/probe/things", json={"name": "slow"}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert await _count(database, "slow") == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
async def test_bad_keys_are_400(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database, key: str
) -> None:
    user = await create_user(database)
    response = await probe.post(
        "/probe/things",
        json={"name": "d"},
        headers={**auth_headers(probe_app, user), "Idempotency-Key": key},
    )
    assert_problem(response, 400, "invalid_idempotency_key")
    assert await _count(database, "d") == 0


async def test_longest_key_is_accepted(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "k" * 255}
    assert (
        await probe.post("/probe/things", json={"name": "e"}, headers=headers)
    ).status_code == 201
    again = await probe.post("/probe/things", json={"name": "e"}, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"


async def test_failures_are_not_stored(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "flaky"}
    failed = await probe.post("/probe/things", json={"name": "f", "fail": True}, headers=headers)
    assert_problem(failed, 503)
    again = await probe.post("/probe/things", json={"name": "f", "fail": True}, headers=headers)
    assert "idempotent-replayed" not in again.headers
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


async def test_rejected_requests_release_the_key(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "invalid-body"}
    first = await probe.post("/probe/things", json={"nom": "x"}, headers=headers)
    assert_problem(first, 422, "validation_failed")
    # Nothing happened, so nothing is kept: the corrected request runs under the same key.
    fixed = await probe.post("/probe/things", json={"name": "fixed"}, headers=headers)
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


async def test_without_credentials_the_route_answers_401(probe: httpx.AsyncClient) -> None:
    response = await probe.post(
        "/probe/things", json={"name": "g"}, headers={"Idempotency-Key": "anon"}
    )
    # The probe route has no auth dependency: it runs, nothing is stored.
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


async def test_expired_and_abandoned_keys_start_again(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "old"}
    assert (
        await probe.post("/probe/things", json={"name": "h"}, headers=headers)
    ).status_code == 201
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    fresh = await probe.post("/probe/things", json={"name": "other"}, headers=headers)
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    # A request that died in flight: its lock lapses and a retry runs.
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(IdempotencyRecord).values(
                state="in_flight", locked_until=utcnow() - timedelta(seconds=1)
            )
        )
    retried = await probe.post("/probe/things", json={"name": "other"}, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await _count(database, "other") == 2
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        assert await purge_expired(session) == 1


async def test_concurrent_retries_create_one_row(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = {**auth_headers(probe_app, user), "Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(probe.post("/probe/things", json={"name": "race"}, headers=headers) for _ in range(10))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert await _count(database, "race") == 1


def test_fingerprint_covers_method_path_query_and_body() -> None:
    base = request_fingerprint("POST", "/a", "", b'{"x": 1, "y": 2}')
    assert base == request_fingerprint("post", "/a", "", b'{"y":2,"x":1}')
    assert base != request_fingerprint("POST", "/b", "", b'{"x": 1, "y": 2}')
    assert base != request_fingerprint("POST", "/a", "q=1", b'{"x": 1, "y": 2}')
    assert base != request_fingerprint("POST", "/a", "", b'{"x": 2, "y": 2}')
    assert base != request_fingerprint("PUT", "/a", "", b'{"x": 1, "y": 2}')


def test_openapi_documents_the_header(probe_app: FastAPI) -> None:
    operation = probe_app.openapi()["paths"]["/probe/things"]["post"]
    names = [p["name"] for p in operation["parameters"]]
    assert "Idempotency-Key" in names
    assert {"400", "409", "422"} <= set(operation["responses"])
    assert "parameters" not in probe_app.openapi()["paths"]["/probe/things"]["get"]
