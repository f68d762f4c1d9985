"""/api/v1/jobs and /api/v1/admin/jobs through the real app."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from dossier.core.clock import utcnow
from dossier.core.pagination import CursorCodec
from dossier.db.engine import Database
from dossier.jobs import enqueue
from dossier.models.job import Job
from dossier.models.user import Role, User
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem


async def _job(database: Database, owner: User | None, **values: Any) -> Job:
    kind = values.pop("kind", "test.noop")
    async with database.writer_sessionmaker() as session, session.begin():
        job = await enqueue(session, kind=kind, payload={}, owner_id=owner.id if owner else None)
        if values:
            await session.execute(update(Job).where(Job.id == job.id).values(**values))
    return job


async def test_list_shows_only_the_callers_jobs_with_filters(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    me = await create_user(database)
    other = await create_user(database)
    mine = await _job(database, me)
    dead = await _job(database, me, kind="test.echo", status="dead", finished_at=utcnow())
    await _job(database, other)
    await _job(database, None)
    headers = auth_headers(app, me)

    response = await client.get("/api/v1/jobs", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert {item["id"] for item in body["items"]} == {str(mine.id), str(dead.id)}
    assert body["limit"] == 20
    assert body["next_cursor"] is None
    assert body["page"] is None
    assert body["total"] is None
    item = next(i for i in body["items"] if i["id"] == str(mine.id))
    for field in (
        "kind",
        "status",
        "attempts",
        "max_attempts",
        "progress",
        "result",
        "last_error",
        "created_at",
        "started_at",
        "finished_at",
    ):
        assert field in item

    by_status = await client.get("/api/v1/jobs?status=dead", headers=headers)
    assert [i["id"] for i in by_status.json()["items"]] == [str(dead.id)]
    by_kind = await client.get("/api/v1/jobs?kind=test.noop", headers=headers)
    assert [i["id"] for i in by_kind.json()["items"]] == [str(mine.id)]


async def _walk_pages(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    """Follow `Link: rel="next"` from ``url`` to the end (bounded); the ids seen, in order."""
    seen: list[str] = []
    next_url: str | None = url
    for _ in range(10):
        if next_url is None:
            return seen
        response = await client.get(next_url, headers=headers)
        assert response.status_code == 200
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"]:
            assert 'rel="next"' in response.headers["link"]
            next_url = response.headers["link"].split(";")[0].strip("<>")
        else:
            assert "link" not in response.headers
            next_url = None
    raise AssertionError("more pages than expected")


async def test_list_pages_with_a_signed_cursor_and_link_header(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    me = await create_user(database)
    now = utcnow()
    created = [await _job(database, me, created_at=now - timedelta(seconds=i)) for i in range(5)]
    headers = auth_headers(app, me)
    seen = await _walk_pages(client, "/api/v1/jobs?limit=2", headers)
    assert seen == [str(job.id) for job in created]  # newest first, each once

    oldest_first = await client.get("/api/v1/jobs?sort=created_at&limit=5", headers=headers)
    assert [i["id"] for i in oldest_first.json()["items"]] == [str(j.id) for j in created[::-1]]


async def test_list_rejects_bad_cursor_and_bad_parameters(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    me = await create_user(database)
    for i in range(3):
        await _job(database, me, created_at=utcnow() - timedelta(seconds=i))
    headers = auth_headers(app, me)
    first = (await client.get("/api/v1/jobs?limit=1", headers=headers)).json()
    token = first["next_cursor"]
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    assert_problem(
        await client.get(f"/api/v1/jobs?cursor={tampered}", headers=headers), 400, "invalid_cursor"
    )
    # A cursor from one listing is refused on another (different filter).
    assert_problem(
        await client.get(f"/api/v1/jobs?status=queued&cursor={token}", headers=headers),
        400,
        "invalid_cursor",
    )
    assert_problem(await client.get("/api/v1/jobs?cursor=garbage", headers=headers), 400)
    assert_problem(await client.get("/api/v1/jobs?limit=0", headers=headers), 422)
    assert_problem(await client.get("/api/v1/jobs?status=sleeping", headers=headers), 422)
    assert_problem(await client.get("/api/v1/jobs?sort=kind", headers=headers), 422)
    assert_problem(
        await client.get(f"/api/v1/jobs?page=1&cursor={token}", headers=headers),
        400,
        "conflicting_pagination",
    )


async def test_list_offset_pages_return_the_total(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    me = await create_user(database)
    now = utcnow()
    created = [await _job(database, me, created_at=now - timedelta(seconds=i)) for i in range(3)]
    headers = auth_headers(app, me)
    first = await client.get("/api/v1/jobs?page=1&limit=2", headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert body["page"] == 1
    assert body["total"] == 3
    assert body["next_cursor"] is None
    assert [i["id"] for i in body["items"]] == [str(j.id) for j in created[:2]]
    assert "page=2" in first.headers["link"]
    second = (await client.get("/api/v1/jobs?page=2&limit=2", headers=headers)).json()
    assert [i["id"] for i in second["items"]] == [str(created[2].id)]

    moderator = await create_user(database, role=Role.MODERATOR)
    admin_page = await client.get(
        "/api/v1/admin/jobs?page=1&limit=2", headers=auth_headers(app, moderator)
    )
    assert admin_page.json()["total"] == 3


async def test_endpoints_need_authentication(client: httpx.AsyncClient) -> None:
    some_id = uuid.uuid4()
    for method, path in (
        ("GET", "/api/v1/jobs"),
        ("GET", f"/api/v1/jobs/{some_id}"),
        ("GET", f"/api/v1/jobs/{some_id}/events"),
        ("POST", f"/api/v1/jobs/{some_id}/retry"),
        ("POST", f"/api/v1/jobs/{some_id}/cancel"),
        ("GET", "/api/v1/admin/jobs"),
    ):
        response = await client.request(method, path)
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_get_with_etag_and_visibility(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await create_user(database)
    stranger = await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    job = await _job(database, owner)

    response = await client.get(f"/api/v1/jobs/{job.id}", headers=auth_headers(app, owner))
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    etag = response.headers["etag"]
    cached = await client.get(
        f"/api/v1/jobs/{job.id}", headers={**auth_headers(app, owner), "If-None-Match": etag}
    )
    assert cached.status_code == 304
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == job.id).values(progress=40, updated_at=utcnow())
        )
    changed = await client.get(
        f"/api/v1/jobs/{job.id}", headers={**auth_headers(app, owner), "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.json()["progress"] == 40

    hidden = await client.get(f"/api/v1/jobs/{job.id}", headers=auth_headers(app, stranger))
    assert_problem(hidden, 404, "job_not_found")
    seen = await client.get(f"/api/v1/jobs/{job.id}", headers=auth_headers(app, moderator))
    assert seen.status_code == 200
    missing = await client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=auth_headers(app, owner))
    assert_problem(missing, 404, "job_not_found")
    assert_problem(
        await client.get("/api/v1/jobs/not-a-uuid", headers=auth_headers(app, owner)), 422
    )


async def test_retry_failed_or_dead_jobs_only(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await create_user(database)
    stranger = await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    admin = await create_user(database, role=Role.ADMIN)
    dead = await _job(
        database, owner, status="dead", attempts=5, finished_at=utcnow(), last_error="boom"
    )
    queued = await _job(database, owner)

    assert_problem(
        await client.post(f"/api/v1/jobs/{dead.id}/retry", headers=auth_headers(app, stranger)),
        404,
    )
    assert_problem(
        await client.post(f"/api/v1/jobs/{dead.id}/retry", headers=auth_headers(app, moderator)),
        403,
    )
    response = await client.post(f"/api/v1/jobs/{dead.id}/retry", headers=auth_headers(app, owner))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "queued"
    assert body["attempts"] == 0
    assert body["finished_at"] is None
    assert_problem(
        await client.post(f"/api/v1/jobs/{queued.id}/retry", headers=auth_headers(app, owner)),
        409,
        "job_not_retryable",
    )
    failed = await _job(database, owner, status="failed", finished_at=utcnow())
    by_admin = await client.post(
        f"/api/v1/jobs/{failed.id}/retry", headers=auth_headers(app, admin)
    )
    assert by_admin.status_code == 200


async def test_cancel_queued_running_and_finished(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await create_user(database)
    stranger = await create_user(database)
    headers = auth_headers(app, owner)
    queued = await _job(database, owner)
    running = await _job(database, owner, status="running", attempts=1, lease_owner="w")
    finished = await _job(database, owner, status="succeeded", finished_at=utcnow())

    assert_problem(
        await client.post(f"/api/v1/jobs/{queued.id}/cancel", headers=auth_headers(app, stranger)),
        404,
    )
    cancelled = await client.post(f"/api/v1/jobs/{queued.id}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    asked = await client.post(f"/api/v1/jobs/{running.id}/cancel", headers=headers)
    assert asked.status_code == 200
    assert asked.json()["status"] == "running"
    assert asked.json()["cancel_requested"] is True
    assert_problem(
        await client.post(f"/api/v1/jobs/{finished.id}/cancel", headers=headers),
        409,
        "job_not_cancellable",
    )


async def test_cancel_by_someone_who_may_not_change_the_job(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    """Owners and admins may cancel; moderators read every job but change only their own (403);
    other users do not see the job at all (404)."""
    owner = await create_user(database)
    stranger = await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    admin = await create_user(database, role=Role.ADMIN)
    job = await _job(database, owner)
    url = f"/api/v1/jobs/{job.id}/cancel"

    assert_problem(
        await client.post(url, headers=auth_headers(app, stranger)), 404, "job_not_found"
    )
    assert_problem(await client.post(url, headers=auth_headers(app, moderator)), 403, "forbidden")
    unchanged = await client.get(f"/api/v1/jobs/{job.id}", headers=auth_headers(app, owner))
    assert unchanged.json()["status"] == "queued"
    assert unchanged.json()["cancel_requested"] is False

    # A moderator's own job is theirs to cancel; an admin cancels anyone's.
    own = await _job(database, moderator)
    mine = await client.post(f"/api/v1/jobs/{own.id}/cancel", headers=auth_headers(app, moderator))
    assert mine.status_code == 200
    assert mine.json()["status"] == "cancelled"
    by_admin = await client.post(url, headers=auth_headers(app, admin))
    assert by_admin.status_code == 200
    assert by_admin.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/events"), ("POST", "/retry"), ("POST", "/cancel")],
)
async def test_malformed_job_ids_are_422(
    app: FastAPI, client: httpx.AsyncClient, database: Database, method: str, suffix: str
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    response = await client.request(
        method, f"/api/v1/jobs/not-a-uuid{suffix}", headers=auth_headers(app, admin)
    )
    body = assert_problem(response, 422, "validation_failed")
    assert [error["loc"] for error in body["errors"]] == [["path", "job_id"]]


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if name:
            events.append((name, json.loads(data)))
    return events


async def test_events_stream_until_a_terminal_state(make_settings: Any, database: Database) -> None:
    """A real server and a streaming client: each change is made only after the stream has
    shown the previous state, so the test follows the stream instead of guessing timings."""
    import socket

    import uvicorn

    from dossier.app import create_app

    settings = make_settings(job_events_poll_interval=0.02, job_events_keepalive_seconds=0.05)
    app = create_app(settings, configure_logs=False)
    owner = await create_user(database)
    stranger = await create_user(database)
    job = await _job(database, owner)

    async def set_state(**values: Any) -> None:
        async with database.writer_sessionmaker() as session, session.begin():
            await session.execute(
                update(Job).where(Job.id == job.id).values(updated_at=utcnow(), **values)
            )

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:  # noqa: ASYNC110  (uvicorn offers no start event)
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                url = f"/api/v1/jobs/{job.id}/events"
                statuses: list[str] = []
                names: list[str] = []
                keepalive = False
                async with client.stream("GET", url, headers=auth_headers(app, owner)) as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    assert response.headers["x-accel-buffering"] == "no"
                    assert response.headers["cache-control"] == "no-cache"
                    name = None
                    async for line in response.aiter_lines():
                        if line.startswith(": keep-alive"):
                            if not keepalive and statuses == ["queued"]:
                                # a heartbeat came while nothing changed: now move the job on
                                await set_state(status="running", progress=30, attempts=1)
                            keepalive = True
                        elif line.startswith("event: "):
                            name = line[7:]
                            names.append(name)
                        elif line.startswith("data: ") and name == "status":
                            status = json.loads(line[6:])["status"]
                            if not statuses or statuses[-1] != status:
                                statuses.append(status)
                                if status == "running":
                                    await set_state(status="succeeded", progress=100)
                assert statuses == ["queued", "running", "succeeded"]
                assert names[-1] == "end"
                assert keepalive
                hidden = await client.get(url, headers=auth_headers(app, stranger))
                assert_problem(hidden, 404, "job_not_found")
    finally:
        server.should_exit = True
        await serving


async def test_admin_list_is_for_moderators_with_dead_letters_first(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    now = utcnow()
    old_dead = await _job(
        database, user, status="dead", finished_at=now, created_at=now - timedelta(hours=2)
    )
    newer = [await _job(database, user, created_at=now - timedelta(minutes=i)) for i in range(3)]
    system = await _job(database, None, created_at=now - timedelta(hours=1))

    assert_problem(
        await client.get("/api/v1/admin/jobs", headers=auth_headers(app, user)), 403, "forbidden"
    )
    headers = auth_headers(app, moderator)
    seen = await _walk_pages(client, "/api/v1/admin/jobs?limit=2", headers)
    assert seen == [str(old_dead.id), *(str(j.id) for j in newer), str(system.id)]
    dead_only = await client.get("/api/v1/admin/jobs?status=dead", headers=headers)
    assert [i["id"] for i in dead_only.json()["items"]] == [str(old_dead.id)]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=many", "page=0", "status=sleeping", "kind=", "cursor="],
)
async def test_admin_list_validates_its_query(
    app: FastAPI, client: httpx.AsyncClient, database: Database, query: str
) -> None:
    moderator = await create_user(database, role=Role.MODERATOR)
    response = await client.get(f"/api/v1/admin/jobs?{query}", headers=auth_headers(app, moderator))
    body = assert_problem(response, 422, "validation_failed")
    name = query.split("=", 1)[0]
    assert ["query", name] in [error["loc"][:2] for error in body["errors"]], body["errors"]


async def test_admin_list_refuses_bad_cursors(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    now = utcnow()
    for i in range(3):
        await _job(database, user, created_at=now - timedelta(seconds=i))
        await _job(database, moderator, created_at=now - timedelta(seconds=i))
    headers = auth_headers(app, moderator)
    url = "/api/v1/admin/jobs"

    async def next_cursor(path: str) -> str:
        token: str | None = (await client.get(path, headers=headers)).json()["next_cursor"]
        assert token
        return token

    token = await next_cursor(f"{url}?limit=1")
    assert (await client.get(url, params={"cursor": token}, headers=headers)).status_code == 200
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    # Cursors of other listings: the admin list with another filter, the caller's own jobs.
    other_filter = await next_cursor(f"{url}?limit=1&status=queued")
    from_my_jobs = await next_cursor("/api/v1/jobs?limit=1")
    for cursor in (tampered, "not-a-cursor", other_filter, from_my_jobs):
        response = await client.get(url, params={"cursor": cursor}, headers=headers)
        assert_problem(response, 400, "invalid_cursor")
    # Signed by the app but with a position that is not one: still a 400, never a 500.
    codec = CursorCodec(app.state.settings.signing_secret)
    for field, value in (("k", "yesterday"), ("i", "not-a-uuid"), ("r", "dead")):
        forged = codec.encode({**codec.decode(token), field: value})
        response = await client.get(url, params={"cursor": forged}, headers=headers)
        assert_problem(response, 400, "invalid_cursor")
    both = await client.get(url, params={"cursor": token, "page": 1}, headers=headers)
    assert_problem(both, 400, "conflicting_pagination")
