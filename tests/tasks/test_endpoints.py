"""/api/v1/tasks single-task routes: create, read, replace, patch, delete, complete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import User
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem
from tests.tasks.conftest import CreateTask

Headers = Callable[[User], dict[str, str]]


async def test_create_returns_201_location_etag_and_body(
    client: httpx.AsyncClient, owner: User, other: User, as_user: Headers
) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={
            "title": "  Write the report ",
            "description": "By Friday",
            "priority": "high",
            "due_at": "2027-01-15T12:00:00+01:00",
            "assignee_id": str(other.id),
            "tags": ["Work", "urgent ", "work"],
        },
        headers=as_user(owner),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/tasks/{body['id']}"
    assert response.headers["etag"] == f'"{uuid.UUID(body["id"]).hex}-1"'
    assert body["title"] == "Write the report"
    assert body["tags"] == ["urgent", "work"]
    assert body["priority"] == "high"
    assert body["due_at"] == "2027-01-15T11:00:00Z"
    assert body["done"] is False
    assert body["completed_at"] is None
    assert body["owner_id"] == str(owner.id)
    assert body["assignee_id"] == str(other.id)
    assert set(body) == {
        "id", "title", "description", "done", "completed_at", "priority", "due_at", "tags",
        "owner_id", "assignee_id", "created_at", "updated_at",
    }  # fmt: skip
    got = await client.get(response.headers["location"], headers=as_user(owner))
    assert got.json() == body


async def test_create_done_sets_completed_at(create_task: CreateTask, owner: User) -> None:
    task = await create_task(owner, done=True)
    assert task["done"] is True
    assert task["completed_at"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "ok", "description": "x" * 10_001},
        {"title": "ok", "priority": "whenever"},
        {"title": "ok", "tags": [f"t{i}" for i in range(21)]},
        {"title": "ok", "tags": [""]},
        {"title": "ok", "tags": ["x" * 51]},
        {"title": "ok", "owner_id": str(uuid.uuid4())},
        {"title": "ok", "version": 7},
        {"title": "ok", "created_at": "2020-01-01T00:00:00Z"},
        {"title": "ok", "due_at": "2027-01-01T00:00:00"},
        {"title": "ok", "due_at": 1798761600},  # Unix time: not the published RFC 3339 text
        {"title": "ok", "due_at": "1798761600"},
        {"title": "ok", "done": "maybe"},
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, owner: User, as_user: Headers, body: dict[str, object]
) -> None:
    assert_problem(await client.post("/api/v1/tasks", json=body, headers=as_user(owner)), 422)


async def test_assignee_must_be_an_active_user(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    inactive = await create_user(database, is_active=False)
    for assignee in (uuid.uuid4(), inactive.id):
        response = await client.post(
            "/api/v1/tasks",
            json={"title": "t", "assignee_id": str(assignee)},
            headers=as_user(owner),
        )
        assert_problem(response, 422, "invalid_assignee")


async def test_limits_are_accepted_at_the_edge(create_task: CreateTask, owner: User) -> None:
    task = await create_task(
        owner,
        title="x" * 200,
        description="d" * 10_000,
        tags=[f"t{i:02}" + "x" * 46 for i in range(20)],
    )
    assert len(task["tags"]) == 20


async def test_every_route_needs_authentication(client: httpx.AsyncClient) -> None:
    task_id = uuid.uuid4()
    calls = [
        client.get("/api/v1/tasks"),
        client.post("/api/v1/tasks", json={"title": "t"}),
        client.get(f"/api/v1/tasks/{task_id}"),
        client.put(f"/api/v1/tasks/{task_id}", json={"title": "t"}),
        client.patch(f"/api/v1/tasks/{task_id}", json={}),
        client.delete(f"/api/v1/tasks/{task_id}"),
        client.post(f"/api/v1/tasks/{task_id}/complete"),
        client.get(f"/api/v1/users/{task_id}/tasks"),
        client.get("/api/v1/tags"),
        client.get("/api/v2/tasks"),
        client.get(f"/api/v2/tasks/{task_id}"),
        client.post("/api/v2/tasks", json={"title": "t"}),
        client.patch(f"/api/v2/tasks/{task_id}", json={}),
    ]
    for call in calls:
        response = await call
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_visibility_and_permissions(
    client: httpx.AsyncClient,
    create_task: CreateTask,
    owner: User,
    other: User,
    moderator: User,
    admin: User,
    database: Database,
    as_user: Headers,
) -> None:
    assignee = await create_user(database)
    task = await create_task(owner, assignee_id=str(assignee.id))
    url = f"/api/v1/tasks/{task['id']}"
    for viewer in (owner, assignee, moderator, admin):
        assert (await client.get(url, headers=as_user(viewer))).status_code == 200
    # A stranger learns nothing: 404 for every route.
    assert_problem(await client.get(url, headers=as_user(other)), 404, "task_not_found")
    assert_problem(await client.patch(url, json={"title": "x"}, headers=as_user(other)), 404)
    assert_problem(await client.put(url, json={"title": "x"}, headers=as_user(other)), 404)
    assert_problem(await client.delete(url, headers=as_user(other)), 404)
    assert_problem(await client.post(f"{url}/complete", headers=as_user(other)), 404)
    # Those who see it but may not edit: 403.
    for viewer in (assignee, moderator):
        response = await client.patch(url, json={"title": "x"}, headers=as_user(viewer))
        assert_problem(response, 403, "task_edit_forbidden")
        assert_problem(await client.delete(url, headers=as_user(viewer)), 403)
    assert_problem(
        await client.post(f"{url}/complete", headers=as_user(moderator)),
        403,
        "task_complete_forbidden",
    )
    # The assignee may complete; an admin may edit.
    done = await client.post(f"{url}/complete", headers=as_user(assignee))
    assert done.status_code == 200
    assert done.json()["done"] is True
    edited = await client.patch(url, json={"title": "by admin"}, headers=as_user(admin))
    assert edited.json()["title"] == "by admin"
    assert edited.json()["owner_id"] == str(owner.id)


async def test_unknown_and_malformed_ids(
    client: httpx.AsyncClient, owner: User, as_user: Headers
) -> None:
    assert_problem(await client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=as_user(owner)), 404)
    assert_problem(await client.get("/api/v1/tasks/not-a-uuid", headers=as_user(owner)), 422)


async def test_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, other: User, as_user: Headers
) -> None:
    task = await create_task(
        owner, description="keep", priority="low", tags=["a"], assignee_id=str(other.id)
    )
    url = f"/api/v1/tasks/{task['id']}"
    response = await client.patch(url, json={"title": "new", "tags": ["B"]}, headers=as_user(owner))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "new"
    assert body["tags"] == ["b"]
    assert body["description"] == "keep"
    assert body["priority"] == "low"
    assert body["assignee_id"] == str(other.id)
    assert body["updated_at"] > task["updated_at"]
    assert response.headers["etag"].endswith('-2"')
    cleared = await client.patch(
        url, json={"assignee_id": None, "due_at": None}, headers=as_user(owner)
    )
    assert cleared.json()["assignee_id"] is None
    for bad in ({"title": None}, {"done": None}, {"tags": None}, {"owner_id": str(other.id)}):
        assert_problem(await client.patch(url, json=bad, headers=as_user(owner)), 422)


async def test_put_replaces_everything(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner, description="old", priority="urgent", tags=["a", "b"])
    url = f"/api/v1/tasks/{task['id']}"
    response = await client.put(url, json={"title": "replaced"}, headers=as_user(owner))
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["description"], body["priority"], body["tags"]) == (
        "replaced",
        "",
        "normal",
        [],
    )
    assert_problem(
        await client.put(url, json={"description": "no title"}, headers=as_user(owner)), 422
    )


async def test_done_and_completed_at_follow_each_other(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}"
    done = (await client.patch(url, json={"done": True}, headers=as_user(owner))).json()
    assert done["completed_at"] is not None
    again = (await client.patch(url, json={"done": True}, headers=as_user(owner))).json()
    assert again["completed_at"] == done["completed_at"]
    reopened = (await client.patch(url, json={"done": False}, headers=as_user(owner))).json()
    assert reopened["completed_at"] is None


async def test_complete_is_idempotent(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}/complete"
    first = await client.post(url, headers=as_user(owner))
    second = await client.post(url, headers=as_user(owner))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.headers["etag"] == second.headers["etag"]


async def test_delete(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner, tags=["gone"])
    url = f"/api/v1/tasks/{task['id']}"
    response = await client.delete(url, headers=as_user(owner))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url, headers=as_user(owner)), 404)
    assert_problem(await client.delete(url, headers=as_user(owner)), 404)


async def test_conditional_get_and_writes(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}"
    first = await client.get(url, headers=as_user(owner))
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    cached = await client.get(url, headers={**as_user(owner), "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    changed = await client.patch(
        url, json={"title": "v2"}, headers={**as_user(owner), "If-Match": etag}
    )
    assert changed.status_code == 200
    new_etag = changed.headers["etag"]
    assert new_etag != etag
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("PATCH", {"json": {"title": "lost"}}),
        ("PUT", {"json": {"title": "lost"}}),
        ("DELETE", {}),
        ("POST", {}),
    )
    for method, kwargs in cases:
        path = f"{url}/complete" if method == "POST" else url
        stale = await client.request(
            method, path, headers={**as_user(owner), "If-Match": etag}, **kwargs
        )
        assert_problem(stale, 412, "precondition_failed")
    assert (
        await client.get(url, headers={**as_user(owner), "If-None-Match": etag})
    ).status_code == 200
    assert (await client.get(url, headers=as_user(owner))).json()["title"] == "v2"
    gone = await client.delete(url, headers={**as_user(owner), "If-Match": new_etag})
    assert gone.status_code == 204


async def test_if_match_can_be_required(
    make_settings: Callable[..., object], database: Database
) -> None:
    from asgi_lifespan import LifespanManager

    from dossier.app import create_app

    application: FastAPI = create_app(make_settings(require_if_match=True), configure_logs=False)  # type: ignore[arg-type]
    user = await create_user(database)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = auth_headers(application, user)
            created = await client.post("/api/v1/tasks", json={"title": "t"}, headers=headers)
            url = created.headers["location"]
            assert_problem(await client.patch(url, json={"title": "x"}, headers=headers), 428)
            assert_problem(await client.delete(url, headers=headers), 428, "precondition_required")
            ok = await client.patch(
                url, json={"title": "x"}, headers={**headers, "If-Match": created.headers["etag"]}
            )
            assert ok.status_code == 200


async def test_v1_routes_are_deprecated(
    client: httpx.AsyncClient, app: FastAPI, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    task = await create_task(owner)
    for response in (
        await client.get(f"/api/v1/tasks/{task['id']}", headers=as_user(owner)),
        await client.get("/api/v1/tasks", headers=as_user(owner)),
        await client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=as_user(owner)),
    ):
        assert response.headers["deprecation"] == "?1"
        assert response.headers["sunset"] == "Fri, 31 Dec 2027 00:00:00 GMT"
        assert response.headers["link"] == '</api/v2/tasks>; rel="successor-version"'
    v2 = await client.get(f"/api/v2/tasks/{task['id']}", headers=as_user(owner))
    assert "deprecation" not in v2.headers
    paths = app.openapi()["paths"]
    for path, item in paths.items():
        for operation in item.values():
            if path.startswith("/api/v1/tasks"):
                assert operation.get("deprecated") is True, path
            if path.startswith("/api/v2/"):
                assert not operation.get("deprecated"), path


async def test_sunset_date_is_a_setting(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    from datetime import date

    from asgi_lifespan import LifespanManager

    from dossier.app import create_app

    application: FastAPI = create_app(
        make_settings(api_v1_sunset=date(2030, 6, 1)), configure_logs=False
    )
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/tasks")
            assert response.headers["sunset"] == "Sat, 01 Jun 2030 00:00:00 GMT"


async def test_concurrent_conditional_writes_let_exactly_one_win(
    client: httpx.AsyncClient, create_task: CreateTask, owner: User, as_user: Headers
) -> None:
    import asyncio

    task = await create_task(owner)
    url = f"/api/v1/tasks/{task['id']}"
    etag = (await client.get(url, headers=as_user(owner))).headers["etag"]
    responses = await asyncio.gather(
        *(
            client.patch(
                url, json={"title": f"writer {i}"}, headers={**as_user(owner), "If-Match": etag}
            )
            for i in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7, statuses
    winner = next(r for r in responses if r.status_code == 200).json()["title"]
    assert (await client.get(url, headers=as_user(owner))).json()["title"] == winner
