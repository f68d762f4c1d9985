"""Task lists: visibility, filters, sorts, both paging modes, Link headers, query counts,
index use (EXPLAIN on PostgreSQL), /users/{id}/tasks and /tags."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from dossier.db.engine import Database
from dossier.models.user import User
from tests.factories import create_user
from tests.helpers import assert_problem, postgres_generic_plan
from tests.tasks.conftest import insert_task

Headers = Callable[[User], dict[str, str]]
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _ids(
    client: httpx.AsyncClient, headers: dict[str, str], path: str = "/api/v1/tasks", **params: Any
) -> list[str]:
    response = await client.get(path, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v2/tasks"])
async def test_list_shows_what_the_caller_may_see(
    client: httpx.AsyncClient,
    database: Database,
    owner: User,
    other: User,
    moderator: User,
    as_user: Headers,
    path: str,
) -> None:
    mine = await insert_task(database, owner, title="mine")
    assigned = await insert_task(database, other, title="assigned", assignee_id=owner.id)
    theirs = await insert_task(database, other, title="theirs")
    assert set(await _ids(client, as_user(owner), path)) == {str(mine.id), str(assigned.id)}
    assert set(await _ids(client, as_user(other), path)) == {str(assigned.id), str(theirs.id)}
    assert set(await _ids(client, as_user(moderator), path)) == {
        str(mine.id),
        str(assigned.id),
        str(theirs.id),
    }
    paged = await client.get(path, params={"page": 1, "limit": 100}, headers=as_user(owner))
    assert paged.json()["total"] == 2


async def test_filters(
    client: httpx.AsyncClient, database: Database, owner: User, other: User, as_user: Headers
) -> None:
    a = await insert_task(
        database, owner, title="Buy milk", tags=["home", "shop"], priority="low",
        due_at=T0, done=True, completed_at=T0,
    )  # fmt: skip
    b = await insert_task(
        database, owner, title="Pay rent", description="MILK money", tags=["home"],
        priority="urgent", due_at=T0 + timedelta(days=2), assignee_id=other.id,
    )  # fmt: skip
    c = await insert_task(database, owner, title="100% done_ish", tags=["work"])
    h = as_user(owner)
    assert await _ids(client, h, done="true") == [str(a.id)]
    assert set(await _ids(client, h, done="false")) == {str(b.id), str(c.id)}
    assert set(await _ids(client, h, tag="home")) == {str(a.id), str(b.id)}
    assert await _ids(client, h, tag=["home", "SHOP"]) == [str(a.id)]
    assert await _ids(client, h, tag=["home", "work"]) == []
    assert await _ids(client, h, assignee_id=str(other.id)) == [str(b.id)]
    assert await _ids(client, h, priority="urgent") == [str(b.id)]
    assert await _ids(client, h, due_before=(T0 + timedelta(days=1)).isoformat()) == [str(a.id)]
    assert await _ids(client, h, due_after=(T0 + timedelta(days=1)).isoformat()) == [str(b.id)]
    assert await _ids(client, h, due_after="2027-03-03T09:00:00") == [str(b.id)]  # naive = UTC
    assert set(await _ids(client, h, q="milk")) == {str(a.id), str(b.id)}
    assert await _ids(client, h, q="100%") == [str(c.id)]
    assert await _ids(client, h, q="y_r") == []  # LIKE wildcards are literal ("Pay rent")
    for bad in (
        {"priority": "soon"},
        {"done": "perhaps"},
        {"due_before": "yesterday"},
        {"due_after": "117"},  # Unix time (1970-01-01T00:01:57Z to pydantic): refused
        {"due_before": "1.5e9"},
        {"assignee_id": "nope"},
        {"sort": "owner_id"},
        {"limit": 0},
        {"limit": 101},
        {"q": ""},
    ):
        assert_problem(await client.get("/api/v1/tasks", params=bad, headers=h), 422)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("created_at", lambda t: (t["created_at"], t["id"])),
        ("title", lambda t: (t["title"], t["id"])),
        ("priority", lambda t: (["low", "normal", "high", "urgent"].index(t["priority"]), t["id"])),
        ("due_at", lambda t: (t["due_at"] is None, t["due_at"] or "", t["id"])),
        ("updated_at", lambda t: (t["updated_at"], t["id"])),
    ],
)
async def test_sorts_in_both_modes_agree(
    client: httpx.AsyncClient,
    database: Database,
    owner: User,
    as_user: Headers,
    sort: str,
    key: Callable[[dict[str, Any]], Any],
) -> None:
    for i, (title, priority, due) in enumerate(
        [
            ("b", "high", T0),
            ("a", "low", None),
            ("b", "high", T0),  # ties on every field but id
            ("c", "urgent", T0 + timedelta(hours=1)),
            ("a", "normal", None),
        ]
    ):
        await insert_task(
            database, owner, title=title, priority=priority, due_at=due,
            created_at=T0 + timedelta(minutes=i % 3), updated_at=T0 + timedelta(minutes=i % 2),
        )  # fmt: skip
    h = as_user(owner)
    everything = (await client.get("/api/v1/tasks", params={"limit": 100}, headers=h)).json()
    for descending in (False, True):
        token = f"-{sort}" if descending else sort
        expected = sorted(everything["items"], key=key)
        if descending:
            # NULL is the greatest value: first when descending; id breaks ties descending too.
            expected = list(reversed(expected))
        expected_ids = [t["id"] for t in expected]
        walked: list[str] = []
        url: str | None = f"/api/v1/tasks?limit=2&sort={token}"
        for _ in range(10):
            if url is None:
                break
            response = await client.get(url, headers=h)
            walked += [t["id"] for t in response.json()["items"]]
            url = response.links.get("next", {}).get("url")
        assert walked == expected_ids, token
        paged: list[str] = []
        for page in (1, 2, 3):
            response = await client.get(
                "/api/v1/tasks", params={"limit": 2, "page": page, "sort": token}, headers=h
            )
            body = response.json()
            assert body["total"] == 5
            paged += [t["id"] for t in body["items"]]
            assert ("next" in response.links) == (page < 3)
        assert paged == expected_ids, token


async def test_cursor_stays_exact_while_tasks_change(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    tasks = [
        await insert_task(database, owner, title=f"t{i}", created_at=T0 + timedelta(minutes=i))
        for i in range(6)
    ]
    h = as_user(owner)
    first = (await client.get("/api/v1/tasks", params={"limit": 2}, headers=h)).json()
    assert [t["id"] for t in first["items"]] == [str(tasks[5].id), str(tasks[4].id)]
    # Newer task (before the cursor) and a deleted, not yet seen one.
    await insert_task(database, owner, title="new", created_at=T0 + timedelta(hours=1))
    deleted = await client.delete(f"/api/v1/tasks/{tasks[2].id}", headers=h)
    assert deleted.status_code == 204
    rest: list[str] = []
    cursor = first["next_cursor"]
    for _ in range(10):
        body = (
            await client.get("/api/v1/tasks", params={"limit": 2, "cursor": cursor}, headers=h)
        ).json()
        rest += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert rest == [str(tasks[3].id), str(tasks[1].id), str(tasks[0].id)]


async def test_cursor_is_bound_to_filters_sort_and_list(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    for i in range(3):
        await insert_task(database, owner, title=f"t{i}", tags=["x"])
    h = as_user(owner)
    cursor = (await client.get("/api/v1/tasks", params={"limit": 1, "tag": "x"}, headers=h)).json()[
        "next_cursor"
    ]
    ok = await client.get(
        "/api/v1/tasks", params={"limit": 1, "tag": "x", "cursor": cursor}, headers=h
    )
    assert ok.status_code == 200
    for params in (
        {"cursor": cursor},
        {"cursor": cursor, "tag": "x", "sort": "title"},
        {"cursor": cursor, "tag": "x", "done": "false"},
        {"cursor": cursor[:-3] + "abc", "tag": "x"},
    ):
        assert_problem(
            await client.get("/api/v1/tasks", params=params, headers=h), 400, "invalid_cursor"
        )
    other_list = await client.get(
        f"/api/v1/users/{owner.id}/tasks", params={"tag": "x", "cursor": cursor}, headers=h
    )
    assert_problem(other_list, 400, "invalid_cursor")
    assert_problem(
        await client.get("/api/v1/tasks", params={"page": 1, "cursor": cursor}, headers=h),
        400,
        "conflicting_pagination",
    )


@contextmanager
def count_queries(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.database.engine.sync_engine

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("mode", [{}, {"page": 1}])
async def test_a_list_page_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient,
    app: FastAPI,
    database: Database,
    owner: User,
    as_user: Headers,
    mode: dict[str, int],
) -> None:
    h = as_user(owner)
    counts = []
    for extra in (1, 24):
        for i in range(extra):
            await insert_task(database, owner, title=f"t{i}", tags=[f"tag{i % 5}", "all"])
        with count_queries(app) as statements:
            response = await client.get("/api/v1/tasks", params={"limit": 20, **mode}, headers=h)
        assert response.status_code == 200
        # The principal's own statement (only on a principal-cache miss) is not the page's.
        counts.append(
            len(
                [
                    s
                    for s in statements
                    if s.lstrip().upper().startswith("SELECT") and "FROM users" not in s
                ]
            )
        )
    assert counts[0] == counts[1]
    # tasks + their tags (+ the count in page mode)
    assert counts[0] == 2 + (1 if mode else 0)


async def test_users_tasks(
    client: httpx.AsyncClient,
    database: Database,
    owner: User,
    other: User,
    moderator: User,
    as_user: Headers,
) -> None:
    third = await create_user(database)
    owned = await insert_task(database, other, title="owned by other")
    shared = await insert_task(
        database, owner, title="owner's, assigned to other", assignee_id=other.id
    )
    await insert_task(database, third, title="unrelated")
    url = f"/api/v1/users/{other.id}/tasks"

    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {t["id"] for t in response.json()["items"]}

    assert ids(await client.get(url, headers=as_user(moderator))) == {str(owned.id), str(shared.id)}
    # The owner sees only what they may see of the other user's tasks.
    assert ids(await client.get(url, headers=as_user(owner))) == {str(shared.id)}
    assert ids(await client.get(url, headers=as_user(third))) == set()
    assert ids(await client.get(url, params={"done": "true"}, headers=as_user(moderator))) == set()
    assert_problem(
        await client.get(f"/api/v1/users/{uuid.uuid4()}/tasks", headers=as_user(owner)),
        404,
        "user_not_found",
    )
    paged = await client.get(url, params={"page": 1, "limit": 1}, headers=as_user(moderator))
    assert paged.json()["total"] == 2
    assert "page=2" in paged.links["next"]["url"]


async def test_tags_with_counts(
    client: httpx.AsyncClient,
    database: Database,
    owner: User,
    other: User,
    moderator: User,
    as_user: Headers,
) -> None:
    await insert_task(database, owner, title="a", tags=["home", "work"])
    await insert_task(database, owner, title="b", tags=["home"])
    await insert_task(database, other, title="c", tags=["secret", "home"])
    response = await client.get("/api/v1/tags", headers=as_user(owner))
    assert response.headers["cache-control"] == "private, no-cache"
    assert "next" not in response.links  # everything fits on one page
    assert response.json() == {
        "items": [{"name": "home", "count": 2}, {"name": "work", "count": 1}],
        "limit": 20,
        "next_cursor": None,
        "page": 1,
        "total": 2,
    }
    everyone = (await client.get("/api/v1/tags", headers=as_user(moderator))).json()
    assert everyone["items"][0] == {"name": "home", "count": 3}
    assert {"name": "secret", "count": 1} in everyone["items"]
    assert everyone["total"] == 3


async def test_tags_are_paged(
    client: httpx.AsyncClient, database: Database, owner: User, as_user: Headers
) -> None:
    # Most used first, then by name: b (3), a (2), c (2), d (1), e (1).
    for tags in (["a", "b", "c"], ["a", "b", "c", "d"], ["b", "e"]):
        await insert_task(database, owner, title="t", tags=tags)
    seen: list[dict[str, Any]] = []
    requests = 0
    url: str | None = "/api/v1/tags?limit=2"
    while url is not None:
        requests += 1
        response = await client.get(url, headers=as_user(owner))
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 5
        assert len(body["items"]) <= 2
        seen += body["items"]
        url = response.links.get("next", {}).get("url")
    assert requests == 3  # the last page (one tag) has no `next`
    assert [(tag["name"], tag["count"]) for tag in seen] == [
        ("b", 3),
        ("a", 2),
        ("c", 2),
        ("d", 1),
        ("e", 1),
    ]
    last = (await client.get("/api/v1/tags?limit=2&page=3", headers=as_user(owner))).json()
    assert last["items"] == [{"name": "e", "count": 1}]
    past = await client.get("/api/v1/tags?limit=2&page=4", headers=as_user(owner))
    assert past.json()["items"] == []
    assert "next" not in past.links
    for bad in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}):
        response = await client.get("/api/v1/tags", params=bad, headers=as_user(owner))
        assert_problem(response, 422, "validation_failed")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("as_moderator", "filters", "sort"),
    [
        (False, {}, "-created_at"),
        (False, {"done": False}, "due_at"),
        (False, {"tags": ("home",)}, "-created_at"),
        (True, {"priority": 3}, "priority"),
        (True, {"due_before": T0}, "due_at"),
        (True, {"assignee_id": uuid.UUID(int=1)}, "-created_at"),
        (True, {"done": True}, "-due_at"),
        (True, {}, "-title"),
        (True, {}, "updated_at"),
    ],
)
async def test_filtered_sorted_lists_use_an_index(
    database: Database, owner: User, as_moderator: bool, filters: dict[str, Any], sort: str
) -> None:
    """EXPLAIN the repository's own list query (visibility, filters, order, LIMIT), planned
    with the values and as a generic plan."""
    from sqlalchemy.dialects import postgresql

    from dossier.auth.principal import Principal
    from dossier.core.pagination import order_by
    from dossier.models.user import Role
    from dossier.tasks.repository import SORTING, TaskFilters, list_statement

    for i in range(30):
        await insert_task(
            database, owner, title=f"t{i}", due_at=T0 + timedelta(hours=i), tags=["home"]
        )
    principal = Principal(user_id=owner.id, role=Role.MODERATOR if as_moderator else Role.USER)
    statement = (
        list_statement(principal, TaskFilters(**filters))
        .order_by(*order_by(SORTING, SORTING.parse(sort)))
        .limit(21)
    )
    sql = str(
        statement.compile(
            dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
            compile_kwargs={"literal_binds": True},
        )
    )
    async with database.sessionmaker() as session:
        await session.execute(text("ANALYZE tasks"))
        await session.execute(text("ANALYZE task_tags"))
        # The planner may prefer a sequential scan of a tiny table; forbid it to learn
        # whether an index can serve the query at all.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {sql}")))
        # ...and as the app sends it: prepared, planned without the values (a generic plan).
        generic = await postgres_generic_plan(session, statement)
    for shown in (plan, generic):
        assert "Seq Scan" not in shown, shown
        assert "Index" in shown, shown


@pytest.mark.postgres
async def test_the_text_filter_uses_the_trigram_indexes(database: Database, owner: User) -> None:
    """`q` is a substring match (`LIKE '%…%'`): on PostgreSQL pg_trgm's GIN indexes serve it,
    also in the generic plan of the prepared statement the app sends."""
    from sqlalchemy import func, select

    from dossier.auth.principal import Principal
    from dossier.models.user import Role
    from dossier.tasks.repository import TaskFilters, list_statement

    for i in range(30):
        await insert_task(database, owner, title=f"task {i}", description=f"buy item {i}")
    await insert_task(database, owner, title="Buy MILK", description="")
    moderator = Principal(user_id=owner.id, role=Role.MODERATOR)  # sees every task
    statement = list_statement(moderator, TaskFilters(q="milk"))
    count = select(func.count()).select_from(statement.subquery())
    async with database.writer_sessionmaker() as session:
        assert (await session.execute(count)).scalar_one() == 1
        await session.execute(text("ANALYZE tasks"))
        plan = await postgres_generic_plan(session, count)
    assert "ix_tasks_title_trgm" in plan, plan
    assert "ix_tasks_description_trgm" in plan, plan
