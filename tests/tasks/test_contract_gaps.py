"""Contract points of the task routes that the other task tests leave out: Idempotency-Key on
`…/complete` and on v2 create, v2 list paging (visibility: test_lists.py), required `If-Match`
(428) on every conditional task write, 403 for those who see a task but may not edit it,
malformed ids, and following a cursor through `/users/{id}/tasks`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.task import Task
from dossier.models.user import User
from tests.conftest import client_for
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem
from tests.tasks.conftest import CreateTask, insert_task

Headers = Callable[[User], dict[str, str]]
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
# Headers a replay must repeat exactly (those the first answer carried).
V1_REPLAYED = ("etag", "cache-control", "content-type", "deprecation", "sunset", "link")


async def _task_count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Task)) or 0)


async def _walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], *, pages: int = 20
) -> tuple[list[str], int]:
    """Follow `Link: rel="next"` from ``url`` to the last page, checking that `next_cursor`
    and `Link` agree on every page; returns the ids seen and the number of pages."""
    seen: list[str] = []
    next_url: str | None = url
    requests = 0
    while next_url is not None:
        requests += 1
        assert requests <= pages, "the cursor never ended"
        response = await client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["page"] is None
        assert body["total"] is None
        seen += [item["id"] for item in body["items"]]
        next_url = response.links.get("next", {}).get("url")
        assert (next_url is None) == (body["next_cursor"] is None), body
        if next_url is not None:
            assert f"cursor={body['next_cursor']}" in next_url
    return seen, requests


# 1. Idempotency-Key on POST /api/v1/tasks/{id}/complete


async def test_complete_with_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}/complete"
    headers = {**as_user(owner), "Idempotency-Key": "complete-1"}
    first = await client.post(url, headers=headers)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    assert first.json()["done"] is True
    # The task changes after the first answer: a replay still answers what the first said.
    reopened = await client.patch(
        f"/api/v1/tasks/{task['id']}", json={"done": False}, headers=as_user(owner)
    )
    assert reopened.status_code == 200
    assert reopened.headers["etag"] != first.headers["etag"]
    again = await client.post(url, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for name in V1_REPLAYED:
        assert again.headers[name] == first.headers[name], name
    # ...and did not run: the task is still open.
    current = await client.get(f"/api/v1/tasks/{task['id']}", headers=as_user(owner))
    assert current.json()["done"] is False


async def test_complete_key_reused_for_another_request_is_422(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    first_task = await create_task(owner, title="first")
    second_task = await create_task(owner, title="second")
    headers = {**as_user(owner), "Idempotency-Key": "complete-2"}
    url = f"/api/v1/tasks/{first_task['id']}/complete"
    assert (await client.post(url, headers=headers)).status_code == 200
    other_path = await client.post(f"/api/v1/tasks/{second_task['id']}/complete", headers=headers)
    assert_problem(other_path, 422, "idempotency_key_reused")
    other_body = await client.post(url, json={"note": "different"}, headers=headers)
    assert_problem(other_body, 422, "idempotency_key_reused")
    other_query = await client.post(url, params={"x": "1"}, headers=headers)
    assert_problem(other_query, 422, "idempotency_key_reused")
    # The refused requests ran nothing: the second task is still open.
    second = await client.get(f"/api/v1/tasks/{second_task['id']}", headers=as_user(owner))
    assert second.json()["done"] is False


async def test_a_refused_complete_releases_its_key(
    client: httpx.AsyncClient,
    create_task: CreateTask,
    owner: User,
    moderator: User,
    as_user: Headers,
) -> None:
    """403 is not an outcome: the moderator's key is free for the same request later."""
    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}/complete"
    headers = {**as_user(moderator), "Idempotency-Key": "complete-3"}
    refused = await client.post(url, headers=headers)
    assert_problem(refused, 403, "task_complete_forbidden")
    again = await client.post(url, headers=headers)
    assert_problem(again, 403, "task_complete_forbidden")
    assert "idempotent-replayed" not in again.headers


# 2. Idempotency-Key on POST /api/v2/tasks


async def test_v2_create_with_idempotency_key_replays_and_creates_once(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    headers = {**as_user(owner), "Idempotency-Key": "v2-create-1"}
    body = {"title": "once", "status": "open", "tags": ["a"]}
    first = await client.post("/api/v2/tasks", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # Same JSON, other key order and spacing: the same request.
    again = await client.post(
        "/api/v2/tasks",
        content=b'{ "tags": ["a"],  "status": "open", "title": "once" }',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for name in ("location", "etag", "cache-control", "content-type"):
        assert again.headers[name] == first.headers[name], name
    assert "deprecation" not in again.headers
    assert await _task_count(database) == 1
    changed = await client.post("/api/v2/tasks", json={**body, "title": "twice"}, headers=headers)
    assert_problem(changed, 422, "idempotency_key_reused")
    assert await _task_count(database) == 1


# 3. GET /api/v2/tasks: paging and visibility


async def test_v2_list_limit_bounds(
    client: httpx.AsyncClient, owner: User, as_user: Headers
) -> None:
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"page": 0}):
        response = await client.get("/api/v2/tasks", params=bad, headers=as_user(owner))
        assert_problem(response, 422, "validation_failed")
    for edge in (1, 100):
        response = await client.get("/api/v2/tasks", params={"limit": edge}, headers=as_user(owner))
        assert response.status_code == 200
        assert response.json()["limit"] == edge


async def test_v2_list_pages_by_offset_with_total(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    tasks = [
        await insert_task(database, owner, title=f"t{i}", created_at=T0 + timedelta(minutes=i))
        for i in range(5)
    ]
    newest_first = [str(t.id) for t in reversed(tasks)]
    h = as_user(owner)
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await client.get("/api/v2/tasks", params={"limit": 2, "page": page}, headers=h)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "private, no-cache"
        body = response.json()
        assert (body["page"], body["total"], body["limit"], body["next_cursor"]) == (
            page,
            5,
            2,
            None,
        )
        assert all("status" in item and "links" in item for item in body["items"])
        seen += [item["id"] for item in body["items"]]
        if page < 3:
            next_url = response.links["next"]["url"]
            assert next_url.startswith("http://testserver/api/v2/tasks?")
            assert f"page={page + 1}" in next_url
        else:
            assert "next" not in response.links
    assert seen == newest_first


async def test_v2_list_follows_its_cursor_to_the_end(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    tasks = [
        await insert_task(database, owner, title=f"t{i}", created_at=T0 + timedelta(minutes=i % 3))
        for i in range(7)
    ]  # created_at ties: `id` must break them without skipping or repeating rows
    seen, requests = await _walk(client, "/api/v2/tasks?limit=3", as_user(owner))
    assert requests == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {str(t.id) for t in tasks}
    everything = await client.get("/api/v2/tasks", params={"limit": 100}, headers=as_user(owner))
    assert seen == [item["id"] for item in everything.json()["items"]]
    # A v1 cursor is not a v2 cursor.
    v1_cursor = (
        await client.get("/api/v1/tasks", params={"limit": 3}, headers=as_user(owner))
    ).json()["next_cursor"]
    response = await client.get(
        "/api/v2/tasks", params={"limit": 3, "cursor": v1_cursor}, headers=as_user(owner)
    )
    assert_problem(response, 400, "invalid_cursor")


# 4. 428 when If-Match is required


@pytest.fixture
async def strict(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app started with `DOSSIER_REQUIRE_IF_MATCH=true`, and its client."""
    async with client_for(make_settings(require_if_match=True)) as started:
        yield started


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/tasks/{id}", {"title": "replaced"}),
        ("POST", "/api/v1/tasks/{id}/complete", None),
        ("PATCH", "/api/v2/tasks/{id}", {"title": "patched"}),
    ],
)
async def test_required_if_match_is_428_without_it(
    strict: tuple[FastAPI, httpx.AsyncClient],
    owner: User,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    application, http = strict
    headers = auth_headers(application, owner)
    created = await http.post("/api/v1/tasks", json={"title": "t"}, headers=headers)
    assert created.status_code == 201
    etag = created.headers["etag"]
    url = path.format(id=created.json()["id"])
    for missing in ({}, {"If-Match": " "}):
        response = await http.request(method, url, json=body, headers={**headers, **missing})
        assert_problem(response, 428, "precondition_required")
    # Nothing was written.
    got = await http.get(f"/api/v1/tasks/{created.json()['id']}", headers=headers)
    assert got.headers["etag"] == etag
    assert (got.json()["title"], got.json()["done"]) == ("t", False)
    ok = await http.request(method, url, json=body, headers={**headers, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] != etag


# 5. Those who see a task but may not edit it get 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/tasks/{id}", {"title": "replaced"}),
        ("PATCH", "/api/v2/tasks/{id}", {"title": "patched"}),
        ("PATCH", "/api/v2/tasks/{id}", {"status": "done"}),
    ],
)
async def test_assignee_and_moderator_may_not_edit(
    client: httpx.AsyncClient,
    create_task: CreateTask,
    database: Database,
    owner: User,
    moderator: User,
    admin: User,
    as_user: Headers,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    assignee = await create_user(database)
    task = await create_task(owner, title="t", assignee_id=str(assignee.id))
    url = path.format(id=task["id"])
    v1_url = f"/api/v1/tasks/{task['id']}"
    etag = (await client.get(v1_url, headers=as_user(owner))).headers["etag"]
    for viewer in (assignee, moderator):
        # A current ETag (a precondition that holds) does not make the edit allowed.
        for extra in ({}, {"If-Match": etag}):
            response = await client.request(
                method, url, json=body, headers={**as_user(viewer), **extra}
            )
            assert_problem(response, 403, "task_edit_forbidden")
    unchanged = await client.get(v1_url, headers=as_user(owner))
    assert unchanged.headers["etag"] == etag
    assert (unchanged.json()["title"], unchanged.json()["done"]) == ("t", False)
    # The owner and an admin may.
    for editor in (owner, admin):
        response = await client.request(method, url, json=body, headers=as_user(editor))
        assert response.status_code == 200, response.text
        assert response.json()["owner_id"] == str(owner.id)


# 6. Malformed ids


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/api/v1/tasks/{id}", None),
        ("POST", "/api/v1/tasks/{id}/complete", None),
        ("GET", "/api/v2/tasks/{id}", None),
        ("PATCH", "/api/v2/tasks/{id}", {"title": "x"}),
    ],
)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "6f1c2b6e-0000-4000-8000-000000000000x"])
async def test_malformed_ids_are_422(
    client: httpx.AsyncClient,
    owner: User,
    as_user: Headers,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    bad_id: str,
) -> None:
    response = await client.request(
        method, path.format(id=bad_id), json=body, headers=as_user(owner)
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert any(error["loc"] == ["path", "task_id"] for error in problem["errors"]), problem


# 7. GET /api/v1/users/{id}/tasks: a cursor followed to the end


async def test_users_tasks_follows_its_cursor_to_the_end(
    client: httpx.AsyncClient,
    database: Database,
    owner: User,
    other: User,
    moderator: User,
    as_user: Headers,
) -> None:
    owned = [
        await insert_task(database, other, title=f"o{i}", created_at=T0 + timedelta(minutes=i))
        for i in range(4)
    ]
    assigned = [
        await insert_task(
            database,
            owner,
            title=f"a{i}",
            assignee_id=other.id,
            created_at=T0 + timedelta(minutes=i),
        )
        for i in range(3)
    ]  # created_at ties with the owned tasks: `id` breaks them
    await insert_task(database, owner, title="not involving other")
    url = f"/api/v1/users/{other.id}/tasks?limit=2"
    seen, requests = await _walk(client, url, as_user(moderator))
    assert requests == 4
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {str(t.id) for t in owned + assigned}
    everything = await client.get(
        f"/api/v1/users/{other.id}/tasks", params={"limit": 100}, headers=as_user(moderator)
    )
    assert seen == [item["id"] for item in everything.json()["items"]]
    # The owner sees only the tasks of `other` they are part of, page by page too.
    mine, _ = await _walk(client, url, as_user(owner))
    assert sorted(mine) == sorted(str(t.id) for t in assigned)
    # With a filter and a sort, the cursor carries both to the end.
    titled, _ = await _walk(client, f"{url}&sort=title&done=false", as_user(moderator))
    assert titled == [str(t.id) for t in sorted(assigned + owned, key=lambda t: t.title)]
