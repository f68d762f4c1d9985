"""/api/v2/tasks: the improved representation over the same service."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from dossier.models.user import User
from tests.helpers import assert_problem

Headers = Callable[[User], dict[str, str]]


async def test_v2_create_get_patch_list(
    client: httpx.AsyncClient, owner: User, other: User, as_user: Headers
) -> None:
    h = as_user(owner)
    created = await client.post(
        "/api/v2/tasks",
        json={
            "title": "v2 task",
            "status": "open",
            "tags": ["A", "b"],
            "assignee_id": str(other.id),
        },
        headers=h,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v2/tasks/{body['id']}"
    assert "deprecation" not in created.headers
    assert body["status"] == "open"
    assert "done" not in body
    assert body["tags"] == [{"name": "a"}, {"name": "b"}]
    assert body["version"] == 1
    assert body["links"] == {
        "self": f"/api/v2/tasks/{body['id']}",
        "complete": f"/api/v1/tasks/{body['id']}/complete",
        "owner": f"/api/v1/users/{owner.id}",
        "assignee": f"/api/v1/users/{other.id}",
    }
    url = created.headers["location"]
    got = await client.get(url, headers=h)
    assert got.json() == body
    assert got.headers["etag"] == created.headers["etag"]
    assert (
        await client.get(url, headers={**h, "If-None-Match": got.headers["etag"]})
    ).status_code == 304
    # v1 and v2 are two views of one task.
    v1 = (await client.get(f"/api/v1/tasks/{body['id']}", headers=h)).json()
    assert v1["done"] is False
    assert v1["tags"] == ["a", "b"]

    patched = await client.patch(
        url, json={"status": "done"}, headers={**h, "If-Match": got.headers["etag"]}
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "done"
    assert patched.json()["completed_at"] is not None
    assert patched.json()["version"] == 2
    stale = await client.patch(
        url, json={"title": "x"}, headers={**h, "If-Match": got.headers["etag"]}
    )
    assert_problem(stale, 412)

    listed = (await client.get("/api/v2/tasks", params={"status": "done"}, headers=h)).json()
    assert [t["id"] for t in listed["items"]] == [body["id"]]
    assert (await client.get("/api/v2/tasks", params={"status": "open"}, headers=h)).json()[
        "items"
    ] == []


async def test_v2_validation_and_visibility(
    client: httpx.AsyncClient, owner: User, other: User, as_user: Headers
) -> None:
    h = as_user(owner)
    for bad in ({"title": "t", "done": True}, {"title": "t", "status": "closed"}, {"title": ""}):
        assert_problem(await client.post("/api/v2/tasks", json=bad, headers=h), 422)
    created = (await client.post("/api/v2/tasks", json={"title": "mine"}, headers=h)).json()
    url = f"/api/v2/tasks/{created['id']}"
    assert_problem(await client.get(url, headers=as_user(other)), 404)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=as_user(other)), 404)
    assert_problem(await client.patch(url, json={"status": None}, headers=h), 422)
    assert_problem(await client.get("/api/v2/tasks", params={"status": "closed"}, headers=h), 422)
