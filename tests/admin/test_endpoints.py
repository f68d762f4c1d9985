"""GET /api/v1/admin/stats: figures aggregated in SQL, for moderators and admins, cached."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import update

from dossier.db.engine import Database
from dossier.jobs import enqueue
from dossier.models.document import Document
from dossier.models.job import Job
from dossier.models.task import Task
from dossier.models.user import Role, User
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem

STATS = "/api/v1/admin/stats"


async def _seed(database: Database, owner: User) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        session.add_all(
            [Task(title=f"t{index}", owner_id=owner.id, done=index < 2) for index in range(5)]
        )
        for status in ("uploaded", "ready", "ready", "failed"):
            session.add(
                Document(
                    owner_id=owner.id,
                    title="d",
                    filename="d.txt",
                    doc_type="text",
                    content_type="text/plain",
                    size_bytes=1,
                    sha256="0" * 64,
                    storage_key=uuid.uuid4().hex,
                    status=status,
                )
            )
        jobs = [
            await enqueue(session, kind="test.noop", payload={}, owner_id=owner.id)
            for _ in range(3)
        ]
        await session.flush()
        await session.execute(update(Job).where(Job.id == jobs[0].id).values(status="dead"))


async def test_moderators_and_admins_see_the_figures(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await create_user(database)
    await create_user(database, role=Role.MODERATOR)
    admin = await create_user(database, role=Role.ADMIN)
    await create_user(database, is_active=False)
    await _seed(database, owner)

    response = await client.get(STATS, headers=auth_headers(app, admin))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["users"] == {
        "total": 4,
        "active": 3,
        "by_role": {"user": 2, "moderator": 1, "admin": 1},
    }
    assert body["tasks"] == {"total": 5, "open": 3, "done": 2}
    assert body["documents_by_status"] == {"uploaded": 1, "ready": 2, "failed": 1}
    assert body["jobs_by_status"] == {"queued": 2, "dead": 1}
    assert response.headers["cache-control"] == "private, max-age=15"


async def test_figures_are_cached_and_computed_once(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    moderator = await create_user(database, role=Role.MODERATOR)
    headers = auth_headers(app, moderator)
    misses = (
        REGISTRY.get_sample_value(
            "dossier_cache_requests_total", {"cache": "admin-stats", "result": "miss"}
        )
        or 0.0
    )
    first = (await client.get(STATS, headers=headers)).json()
    await _seed(database, moderator)  # new rows, but within the cache's lifetime
    second = (await client.get(STATS, headers=headers)).json()
    assert second == first
    after = (
        REGISTRY.get_sample_value(
            "dossier_cache_requests_total", {"cache": "admin-stats", "result": "miss"}
        )
        or 0.0
    )
    assert after - misses == 1
    await app.state.cache.invalidate("admin-stats")
    third = (await client.get(STATS, headers=headers)).json()
    assert third["tasks"]["total"] == 5
    assert third["generated_at"] != first["generated_at"]


async def test_users_are_forbidden_and_anonymous_callers_401(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    assert_problem(await client.get(STATS, headers=auth_headers(app, user)), 403, "forbidden")
    assert_problem(await client.get(STATS), 401, "not_authenticated")
