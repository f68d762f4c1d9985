"""The principal dependencies: bearer token in, typed principal with a required role out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from dossier.app import create_app
from dossier.auth.dependencies import AdminPrincipal, CurrentPrincipal, ModeratorPrincipal
from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import Role
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem


@pytest.fixture
async def probe_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings, configure_logs=False)

    @app.get("/_probe/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"id": str(principal.user_id), "role": principal.role.value}

    @app.get("/_probe/moderator")
    async def moderator(principal: ModeratorPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    @app.get("/_probe/admin")
    async def admin(principal: AdminPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    async with LifespanManager(app):
        yield app


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_valid_token_gives_the_principal(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    response = await probe.get("/_probe/me", headers=auth_headers(probe_app, user))
    assert response.status_code == 200
    assert response.json() == {"id": str(user.id), "role": "user"}


async def test_missing_token_is_401_with_challenge(probe: httpx.AsyncClient) -> None:
    response = await probe.get("/_probe/me")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_garbage_token_is_401_invalid_token(probe: httpx.AsyncClient) -> None:
    response = await probe.get("/_probe/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_deactivated_user_is_rejected(
    probe: httpx.AsyncClient, probe_app: FastAPI, database: Database
) -> None:
    user = await create_user(database, is_active=False)
    response = await probe.get("/_probe/me", headers=auth_headers(probe_app, user))
    assert_problem(response, 401, "invalid_token")


@pytest.mark.parametrize(
    ("role", "moderator", "admin"),
    [(Role.USER, 403, 403), (Role.MODERATOR, 200, 403), (Role.ADMIN, 200, 200)],
)
async def test_required_roles(
    probe: httpx.AsyncClient,
    probe_app: FastAPI,
    database: Database,
    role: Role,
    moderator: int,
    admin: int,
) -> None:
    headers = auth_headers(probe_app, await create_user(database, role=role))
    assert (await probe.get("/_probe/moderator", headers=headers)).status_code == moderator
    assert (await probe.get("/_probe/admin", headers=headers)).status_code == admin
