"""The pagination helper through a probe list of users: offset and keyset modes, sorting,
signed cursors bound to sort and filters, Link headers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.pagination import (
    CursorCodec,
    CursorCodecDep,
    Page,
    PageParamsDep,
    Sorting,
    page_response,
    paginate,
)
from dossier.db.engine import Database
from dossier.db.session import SessionDep
from dossier.models.user import User
from tests.factories import create_user
from tests.helpers import assert_problem

SORTING = Sorting(
    fields={"created_at": User.created_at, "email": User.email},
    id_column=User.id,
    default="email",
)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/probe/users", response_model=Page[UserOut])
    async def list_users(
        request: Request,
        response: Response,
        session: SessionDep,
        params: PageParamsDep,
        codec: CursorCodecDep,
        sort: str | None = None,
        active: Annotated[bool | None, Query()] = None,
    ) -> Page[UserOut]:
        statement = select(User)
        if active is not None:
            statement = statement.where(User.is_active == active)
        result = await paginate(
            session,
            statement,
            params=params,
            sorting=SORTING,
            order=SORTING.parse(sort),
            codec=codec,
            filters={"active": active},
            scope="/probe/users",
        )
        return page_response(
            request, response, result, [UserOut.model_validate(u) for u in result.items]
        )

    return router


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings, configure_logs=False)
    application.include_router(probe_router())
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _users(database: Database, count: int, **fields: Any) -> list[User]:
    return [
        await create_user(database, email=f"p{uuid.uuid4().hex[:8]}@example.com", **fields)
        for _ in range(count)
    ]


def _next_url(response: httpx.Response) -> str | None:
    link: str | None = response.headers.get("link")
    if link is None:
        return None
    assert link.endswith('>; rel="next"')
    return link[1 : link.index(">")]


async def test_limit_is_bounded(probe_client: httpx.AsyncClient) -> None:
    for bad in ("0", "101", "x"):
        assert_problem(await probe_client.get("/probe/users", params={"limit": bad}), 422)
    body = (await probe_client.get("/probe/users")).json()
    assert body == {"items": [], "limit": 20, "next_cursor": None, "page": None, "total": None}


async def test_offset_mode_counts_and_links(
    probe_client: httpx.AsyncClient, database: Database
) -> None:
    users = sorted(await _users(database, 5), key=lambda u: u.email)
    first = await probe_client.get("/probe/users", params={"limit": 2, "page": 1})
    body = first.json()
    assert body["total"] == 5
    assert body["page"] == 1
    assert body["next_cursor"] is None
    assert [item["email"] for item in body["items"]] == [u.email for u in users[:2]]
    seen = [item["id"] for item in body["items"]]
    url = _next_url(first)
    assert url is not None
    assert "page=2" in url
    assert "limit=2" in url
    while url is not None:
        response = await probe_client.get(url)
        seen += [item["id"] for item in response.json()["items"]]
        url = _next_url(response)
    assert seen == [str(u.id) for u in users]
    past_end = (await probe_client.get("/probe/users", params={"page": 9})).json()
    assert past_end["items"] == []
    assert past_end["total"] == 5


async def test_keyset_walk_is_exact_while_rows_change(
    probe_client: httpx.AsyncClient, database: Database
) -> None:
    users = sorted(await _users(database, 6), key=lambda u: u.email)
    first = await probe_client.get("/probe/users", params={"limit": 2, "sort": "email"})
    body = first.json()
    assert body["page"] is None
    assert body["total"] is None
    assert body["next_cursor"]
    assert [i["id"] for i in body["items"]] == [str(u.id) for u in users[:2]]
    # Between pages: delete a row not yet seen, insert one before and one after the cursor.
    async with database.writer_sessionmaker() as session, session.begin():
        await session.delete(await session.get(User, users[3].id))
    early = await create_user(database, email="a-early@example.com")
    late = await create_user(database, email="zz-late@example.com")
    seen = [i["id"] for i in body["items"]]
    url = _next_url(first)
    assert url is not None
    assert body["next_cursor"] in url
    for _ in range(10):
        if url is None:
            break
        response = await probe_client.get(url)
        seen += [i["id"] for i in response.json()["items"]]
        url = _next_url(response)
    expected = [str(u.id) for u in users[:2]] + [str(u.id) for u in (users[2], users[4], users[5])]
    assert seen == [*expected, str(late.id)]
    assert str(early.id) not in seen


async def test_descending_sort_with_id_tie_breaker(
    probe_client: httpx.AsyncClient, database: Database
) -> None:
    users = await _users(database, 5)
    expected = sorted(users, key=lambda u: (u.created_at, u.id), reverse=True)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2, "sort": "-created_at"}
        if cursor:
            params["cursor"] = cursor
        body = (await probe_client.get("/probe/users", params=params)).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(u.id) for u in expected]


async def test_cursor_is_bound_to_sort_and_filters(
    probe_client: httpx.AsyncClient, database: Database
) -> None:
    await _users(database, 3)
    body = (await probe_client.get("/probe/users", params={"limit": 1, "sort": "email"})).json()
    cursor = body["next_cursor"]
    ok = await probe_client.get(
        "/probe/users", params={"limit": 1, "sort": "email", "cursor": cursor}
    )
    assert ok.status_code == 200
    other_sort = await probe_client.get(
        "/probe/users", params={"limit": 1, "sort": "-email", "cursor": cursor}
    )
    assert_problem(other_sort, 400, "invalid_cursor")
    other_filter = await probe_client.get(
        "/probe/users", params={"limit": 1, "sort": "email", "active": "true", "cursor": cursor}
    )
    assert_problem(other_filter, 400, "invalid_cursor")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: "A" + c[1:] if not c.startswith("A") else "B" + c[1:],
        lambda c: "not base64 !!",
        lambda c: "x",
    ],
)
async def test_tampered_cursor_is_rejected(
    probe_client: httpx.AsyncClient, database: Database, tamper: Callable[[str], str]
) -> None:
    await _users(database, 3)
    cursor = (await probe_client.get("/probe/users", params={"limit": 1})).json()["next_cursor"]
    response = await probe_client.get("/probe/users", params={"limit": 1, "cursor": tamper(cursor)})
    assert_problem(response, 400, "invalid_cursor")


async def test_cursor_signed_with_another_key_is_rejected(
    probe_client: httpx.AsyncClient, database: Database
) -> None:
    await _users(database, 2)
    forged = CursorCodec("another-secret-that-is-long-enough-000000").encode(
        {"b": "x", "o": "email", "k": "a", "i": str(uuid.uuid4())}
    )
    response = await probe_client.get("/probe/users", params={"cursor": forged})
    assert_problem(response, 400, "invalid_cursor")


async def test_page_and_cursor_together_and_bad_sort(probe_client: httpx.AsyncClient) -> None:
    both = await probe_client.get("/probe/users", params={"page": 1, "cursor": "abc"})
    assert_problem(both, 400, "conflicting_pagination")
    assert_problem(
        await probe_client.get("/probe/users", params={"sort": "password_hash"}),
        400,
        "invalid_sort",
    )


def test_codec_round_trip_and_choices() -> None:
    codec = CursorCodec("k" * 40)
    assert codec.decode(codec.encode({"a": 1})) == {"a": 1}
    assert SORTING.choices() == ["created_at", "-created_at", "email", "-email"]
