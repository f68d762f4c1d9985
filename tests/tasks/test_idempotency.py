"""Idempotency-Key on POST /api/v1/tasks (and v2)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import func, select

from dossier.db.engine import Database
from dossier.models.task import Task
from dossier.models.user import User
from tests.helpers import assert_problem

Headers = Callable[[User], dict[str, str]]


async def _task_count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Task)) or 0)


async def test_retry_replays_and_creates_once(
    client: httpx.AsyncClient, database: Database, owner: User, other: User, as_user: Headers
) -> None:
    headers = {**as_user(owner), "Idempotency-Key": "create-1"}
    first = await client.post("/api/v1/tasks", json={"title": "once"}, headers=headers)
    again = await client.post("/api/v1/tasks", json={"title": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for name in ("location", "etag", "deprecation", "sunset"):
        assert again.headers[name] == first.headers[name]
    assert await _task_count(database) == 1
    mismatch = await client.post("/api/v1/tasks", json={"title": "twice"}, headers=headers)
    assert_problem(mismatch, 422, "idempotency_key_reused")
    # Same key on another endpoint is another request too.
    other_path = await client.post("/api/v2/tasks", json={"title": "once"}, headers=headers)
    assert_problem(other_path, 422, "idempotency_key_reused")
    # Another user's key space is separate.
    theirs = await client.post(
        "/api/v1/tasks",
        json={"title": "once"},
        headers={**as_user(other), "Idempotency-Key": "create-1"},
    )
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert await _task_count(database) == 2


async def test_bad_keys(client: httpx.AsyncClient, owner: User, as_user: Headers) -> None:
    for key in ("", "x" * 256):
        response = await client.post(
            "/api/v1/tasks", json={"title": "t"}, headers={**as_user(owner), "Idempotency-Key": key}
        )
        assert_problem(response, 400, "invalid_idempotency_key")


async def test_unauthenticated_post_with_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/tasks", json={"title": "t"}, headers={"Idempotency-Key": "k"}
    )
    assert_problem(response, 401)


async def test_fifty_concurrent_requests_with_one_key_create_one_task(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    headers = {**as_user(owner), "Idempotency-Key": "stampede"}
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/tasks", json={"title": "stampede"}, headers=headers)
            for _ in range(50)
        )
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert len({r.json()["id"] for r in created}) == 1
    assert await _task_count(database) == 1
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "idempotency_key_in_use")
    replay = await client.post("/api/v1/tasks", json={"title": "stampede"}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == created[0].json()["id"]
