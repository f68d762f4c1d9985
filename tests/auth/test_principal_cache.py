"""The principal lookup goes through the application cache; changes still take effect at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event, update

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import Role, User
from tests.conftest import client_for
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem

TASKS = "/api/v1/tasks"
USERS = "/api/v1/users"


@contextmanager
def user_queries(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements that read the users table while the block runs."""
    seen: list[str] = []
    engine = app.state.database.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_repeated_requests_read_the_user_row_once(
    app: FastAPI, client: AsyncClient, owner: User
) -> None:
    headers = auth_headers(app, owner)
    stats = app.state.cache.stats
    misses, hits = stats["principal:miss"], stats["principal:hit"]
    with user_queries(app) as queries:
        for _ in range(3):
            assert (await client.get(TASKS, headers=headers)).status_code == 200
    assert len(queries) == 1
    assert stats["principal:miss"] - misses == 1
    assert stats["principal:hit"] - hits == 2


async def test_a_demotion_takes_effect_on_the_next_request(
    app: FastAPI, client: AsyncClient, moderator: User, admin: User
) -> None:
    headers = auth_headers(app, moderator)
    assert (await client.get(USERS, headers=headers)).status_code == 200  # now cached
    response = await client.patch(
        f"{USERS}/{moderator.id}", json={"role": "user"}, headers=auth_headers(app, admin)
    )
    assert response.status_code == 200
    assert_problem(await client.get(USERS, headers=headers), 403, "forbidden")


async def test_deactivation_and_deletion_take_effect_on_the_next_request(
    app: FastAPI, client: AsyncClient, owner: User, other: User, admin: User
) -> None:
    admin_headers = auth_headers(app, admin)
    for user, change in ((owner, "deactivate"), (other, "delete")):
        headers = auth_headers(app, user)
        assert (await client.get(TASKS, headers=headers)).status_code == 200  # now cached
        if change == "deactivate":
            response = await client.patch(
                f"{USERS}/{user.id}", json={"is_active": False}, headers=admin_headers
            )
            assert response.status_code == 200
        else:
            response = await client.delete(f"{USERS}/{user.id}", headers=admin_headers)
            assert response.status_code == 204
        assert_problem(await client.get(TASKS, headers=headers), 401, "invalid_token")


async def test_a_failed_write_does_not_drop_or_poison_the_entry(
    app: FastAPI, client: AsyncClient, admin: User
) -> None:
    """Demoting the last admin is refused (rolled back): the admin keeps the cached role."""
    headers = auth_headers(app, admin)
    assert (await client.get(USERS, headers=headers)).status_code == 200
    response = await client.patch(f"{USERS}/{admin.id}", json={"role": "user"}, headers=headers)
    assert response.status_code == 409
    assert (await client.get(USERS, headers=headers)).status_code == 200


async def test_zero_seconds_reads_the_database_on_every_request(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database, role=Role.MODERATOR)
    async with client_for(make_settings(principal_cache_seconds=0)) as (app, client):
        headers = auth_headers(app, user)
        with user_queries(app) as queries:
            for _ in range(2):
                assert (await client.get(TASKS, headers=headers)).status_code == 200
        assert len(queries) == 2
        # So a change written behind the application's back is seen at once, too.
        async with database.writer_sessionmaker() as session, session.begin():
            await session.execute(update(User).where(User.id == user.id).values(role="user"))
        assert_problem(await client.get(USERS, headers=headers), 403)


@pytest.mark.redis
async def test_replicas_share_the_cache_and_its_invalidation_through_redis(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    """Two app instances (as two replicas): an admin's change on one is honoured by the other
    at once, although the other had the user cached."""
    user = await create_user(database, role=Role.MODERATOR)
    admin = await create_user(database, role=Role.ADMIN)
    settings = make_settings()
    async with client_for(settings) as (first_app, first), client_for(settings) as (_, second):
        headers = auth_headers(first_app, user)
        assert (await second.get(TASKS, headers=headers)).status_code == 200  # second caches
        with user_queries(first_app) as queries:
            assert (await first.get(TASKS, headers=headers)).status_code == 200
        assert queries == []  # the first replica was served the second one's entry
        response = await first.patch(
            f"{USERS}/{user.id}", json={"role": "user"}, headers=auth_headers(first_app, admin)
        )
        assert response.status_code == 200
        assert_problem(await second.get(USERS, headers=headers), 403, "forbidden")
