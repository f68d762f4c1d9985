"""Ingestion as a job: POST …/ingest and ?ingest=true go through the real job engine."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from dossier.app import create_app
from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import Role
from tests.documents import files
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem
from tests.jobs.conftest import FAST, wait_for_job


@pytest.fixture
async def worker_app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    # A lease far longer than any run here: FAST's 2 s lease can run out on a loaded machine
    # while the first extraction starts the process pool, and the reaper's (correct) retry
    # then ran a permanently failing job twice (CI, PostgreSQL pass).
    fast = FAST | {"job_lease_seconds": 60.0}
    settings = make_settings(**fast, worker_concurrency=2, job_cpu_processes=1)
    application = create_app(settings, configure_logs=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(worker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=worker_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_upload_with_ingest_true_runs_the_job(
    worker_app: FastAPI, http: httpx.AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    headers = auth_headers(worker_app, user)
    pdf = files.make_pdf(["one", "two", "the capybara on page three"])
    response = await http.post(
        "/api/v1/documents?ingest=true", headers=headers, files={"file": ("c.pdf", pdf)}
    )
    assert response.status_code == 202, response.text
    document = response.json()
    job_id = document["latest_job_id"]
    assert response.headers["location"] == f"/api/v1/jobs/{job_id}"
    job = await wait_for_job(database, uuid.UUID(job_id))
    assert job.status == "succeeded", job.last_error
    assert job.result is not None
    assert job.result["chunks"] == 3
    assert job.progress == 100
    hits = (await http.get("/api/v1/search?q=capybara", headers=headers)).json()
    assert [hit["page"] for hit in hits["items"]] == [3]
    again = (await http.get(f"/api/v1/documents/{document['id']}", headers=headers)).json()
    assert again["status"] == "ready"


async def test_ingest_endpoint_and_permanent_failure(
    worker_app: FastAPI, http: httpx.AsyncClient, database: Database
) -> None:
    owner, other = await create_user(database), await create_user(database)
    headers = auth_headers(worker_app, owner)
    created = await http.post(
        "/api/v1/documents", headers=headers,
        files={"file": ("e.pdf", files.make_encrypted_pdf("secret"))},
    )  # fmt: skip
    url = f"/api/v1/documents/{created.json()['id']}/ingest"
    assert_problem(await http.post(url, headers=auth_headers(worker_app, other)), 404)
    assert_problem(await http.post(url), 401)
    response = await http.post(url, headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"job_id", "status"}
    assert response.headers["location"] == f"/api/v1/jobs/{body['job_id']}"
    job = await wait_for_job(database, uuid.UUID(body["job_id"]))
    assert job.status == "failed"
    assert "encrypted" in (job.last_error or "")
    assert job.attempts == 1  # permanent: not retried
    document = (await http.get(f"/api/v1/documents/{created.json()['id']}", headers=headers)).json()
    assert document["status"] == "failed"
    assert "encrypted" in document["failure_reason"]


async def test_a_waiting_job_is_reused(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    app = create_app(make_settings(worker_concurrency=0), configure_logs=False)
    user, moderator = await create_user(database), await create_user(database, role=Role.MODERATOR)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = auth_headers(app, user)
            created = await client.post(
                "/api/v1/documents", headers=headers, files={"file": ("a.txt", b"words")}
            )
            url = f"/api/v1/documents/{created.json()['id']}"
            first = (await client.post(url + "/ingest", headers=headers)).json()
            second = (await client.post(url + "/ingest", headers=headers)).json()
            assert first == second
            assert first["status"] == "queued"
            document = (await client.get(url, headers=headers)).json()
            assert document["latest_job_id"] == first["job_id"]
            assert document["latest_job"]["status"] == "queued"
            # Moderators read every document but only owners and admins start work on one.
            forbidden = await client.post(url + "/ingest", headers=auth_headers(app, moderator))
            assert_problem(forbidden, 403)
