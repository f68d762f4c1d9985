"""Refresh-token rotation, reuse detection, absolute lifetime, logout and logout-all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.models.refresh_token import RefreshToken
from dossier.models.user import User
from tests.conftest import client_for
from tests.factories import bearer, create_user, login
from tests.helpers import assert_problem

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"
ME = "/api/v1/users/me"


async def test_refresh_rotates_the_token(client: AsyncClient, database: Database) -> None:
    user = await create_user(database)
    first = await login(client, user)
    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200
    # Refresh tokens are stored only as hashes.
    async with database.sessionmaker() as session:
        hashes = list(await session.scalars(select(RefreshToken.token_hash)))
    assert first["refresh_token"] not in hashes
    assert second["refresh_token"] not in hashes
    assert len(hashes) == 2


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    first = await login(client, user)
    other_login = await login(client, user)
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()

    reuse = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_problem(reuse, 401, "refresh_token_reused")
    assert reuse.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # The legitimate holder's newer token of the same family is dead too (committed despite
    # the error response) ...
    response = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert_problem(response, 401)
    # ... while another login (another family) is untouched.
    response = await client.post(REFRESH, json={"refresh_token": other_login["refresh_token"]})
    assert response.status_code == 200


async def test_refresh_tokens_have_an_absolute_lifetime(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    rotated = (await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})).json()
    async with database.sessionmaker() as session:
        expiries = set(await session.scalars(select(RefreshToken.expires_at)))
    assert len(expiries) == 1, "rotation must not extend the family's lifetime"
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert_problem(response, 401, "invalid_token")


async def test_refresh_validates_its_body(client: AsyncClient) -> None:
    assert_problem(await client.post(REFRESH, json={"refresh_token": 5}), 422)
    assert_problem(await client.post(REFRESH, json={"refresh_token": "x", "extra": 1}), 422)
    assert_problem(await client.post(REFRESH, json={}), 401, "invalid_token")


async def test_refresh_is_refused_for_a_deactivated_user(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(response, 401, "invalid_token")


async def test_logout_revokes_the_family_and_the_access_token(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    other = await login(client, user)
    response = await client.post(
        LOGOUT,
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(response, 401)
    # Only this session ended.
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_logout_without_access_token_still_revokes_the_refresh_token(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    assert (
        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 204
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(response, 401)


async def test_logout_cannot_revoke_another_users_session(
    client: AsyncClient, database: Database
) -> None:
    alice, bob = await create_user(database), await create_user(database)
    alice_tokens, bob_tokens = await login(client, alice), await login(client, bob)
    response = await client.post(
        LOGOUT,
        json={"refresh_token": bob_tokens["refresh_token"]},
        headers=bearer(alice_tokens["access_token"]),
    )
    assert response.status_code == 204
    response = await client.post(REFRESH, json={"refresh_token": bob_tokens["refresh_token"]})
    assert response.status_code == 200


async def test_logout_with_an_unknown_token_is_quietly_accepted(client: AsyncClient) -> None:
    assert (await client.post(LOGOUT, json={"refresh_token": "unknown"})).status_code == 204
    assert_problem(await client.post(LOGOUT, json={"refresh_token": ""}), 422)
    bad = await client.post(LOGOUT, json={}, headers=bearer("garbage"))
    assert_problem(bad, 401, "invalid_token")


async def test_logout_all_ends_every_session(client: AsyncClient, database: Database) -> None:
    user = await create_user(database)
    sessions = [await login(client, user) for _ in range(2)]
    assert_problem(await client.post(LOGOUT_ALL), 401)
    response = await client.post(LOGOUT_ALL, headers=bearer(sessions[0]["access_token"]))
    assert response.status_code == 204
    for tokens in sessions:
        assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
        response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert_problem(response, 401)
    # A new login works.
    fresh = await login(client, user)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_concurrent_refreshes_with_one_token_cannot_both_succeed(
    client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    body = {"refresh_token": tokens["refresh_token"]}
    responses = await asyncio.gather(
        client.post(REFRESH, json=body), client.post(REFRESH, json=body)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) <= 1
    assert 401 in statuses


@pytest.mark.redis
async def test_the_deny_list_is_shared_between_api_processes_through_redis(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    """Two app instances (as two replicas): a logout on one is honoured by the other."""
    user = await create_user(database)
    settings = make_settings()
    async with client_for(settings) as (_one, first), client_for(settings) as (_two, second):
        tokens = await login(first, user)
        assert (await second.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
        response = await first.post(
            LOGOUT,
            json={"refresh_token": tokens["refresh_token"]},
            headers=bearer(tokens["access_token"]),
        )
        assert response.status_code == 204
        assert_problem(await second.get(ME, headers=bearer(tokens["access_token"])), 401)
