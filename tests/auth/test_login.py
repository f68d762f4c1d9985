"""Registration and login: the password policy, equal answers for unknown emails, hash upgrade."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select

from dossier.config import Settings
from dossier.core.security.passwords import dummy_password_hash
from dossier.db.engine import Database
from dossier.models.user import User
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, bearer, create_user, login
from tests.helpers import assert_problem

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


async def test_register_creates_a_user_without_exposing_the_hash(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"email": " Ada@Example.COM ", "password": DEFAULT_PASSWORD, "display_name": "Ada"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert response.headers["location"] == f"/api/v1/users/{body['id']}"
    assert "password" not in response.text
    assert "argon2" not in response.text


async def test_register_refuses_a_taken_email_in_any_case(
    client: AsyncClient, database: Database
) -> None:
    await create_user(database, email="taken@example.com")
    response = await client.post(
        REGISTER,
        json={"email": "TAKEN@example.com", "password": DEFAULT_PASSWORD, "display_name": "X"},
    )
    assert_problem(response, 409, "email_taken")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password1", "commonly used"),
        ("Baseball", "commonly used"),
    ],
)
async def test_register_applies_the_password_policy(
    client: AsyncClient, password: str, reason: str
) -> None:
    response = await client.post(
        REGISTER, json={"email": "p@example.com", "password": password, "display_name": "P"}
    )
    body = assert_problem(response, 422, "validation_failed")
    assert any(error["loc"][-1] == "password" for error in body["errors"])
    assert reason in response.text
    assert password not in response.text or len(password) < 8


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": DEFAULT_PASSWORD, "display_name": "X"},
        {"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": ""},
        {"email": "a@example.com", "password": DEFAULT_PASSWORD},
        {
            "email": "a@example.com",
            "password": DEFAULT_PASSWORD,
            "display_name": "X",
            "role": "admin",
        },
    ],
)
async def test_register_validates_the_body(client: AsyncClient, body: dict[str, str]) -> None:
    assert_problem(await client.post(REGISTER, json=body), 422, "validation_failed")


async def test_register_can_be_turned_off(make_settings: Callable[..., Settings]) -> None:
    async with client_for(make_settings(registration_enabled=False)) as (_app, http):
        response = await http.post(
            REGISTER,
            json={"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "A"},
        )
    assert_problem(response, 403, "registration_disabled")


async def test_login_returns_tokens_with_every_claim(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await create_user(database, email="claims@example.com")
    response = await client.post(
        LOGIN, data={"username": "Claims@Example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    assert header["kid"] in app.state.token_codec.key_ids
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert set(claims) == {"sub", "role", "iat", "nbf", "exp", "iss", "aud", "jti", "typ", "ver"}
    assert claims["sub"] == str(user.id)
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    me = await client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)


async def test_wrong_password_and_unknown_email_answer_alike(
    client: AsyncClient, database: Database
) -> None:
    await create_user(database, email="known@example.com")
    dummy_password_hash.cache_clear()
    wrong = await client.post(
        LOGIN, data={"username": "known@example.com", "password": "nope-nope"}
    )
    unknown = await client.post(
        LOGIN, data={"username": "ghost@example.com", "password": "nope-nope"}
    )
    for response in (wrong, unknown):
        assert_problem(response, 401, "invalid_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    # The unknown email was checked against the dummy hash (same Argon2 work as a real one).
    assert dummy_password_hash.cache_info().currsize == 1


async def test_inactive_user_cannot_log_in(client: AsyncClient, database: Database) -> None:
    user = await create_user(database, is_active=False)
    response = await client.post(LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(response, 401, "invalid_credentials")


async def test_login_form_is_validated(client: AsyncClient) -> None:
    assert_problem(await client.post(LOGIN, data={"username": "x"}), 422, "validation_failed")


async def test_login_upgrades_a_hash_with_old_parameters(
    client: AsyncClient, database: Database
) -> None:
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),))
    user = await create_user(database)
    async with database.writer_sessionmaker() as session, session.begin():
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.password_hash = weak.hash(DEFAULT_PASSWORD)
        old_hash = stored.password_hash
    await login(client, user)
    async with database.sessionmaker() as session:
        new_hash = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert new_hash != old_hash
    assert new_hash is not None
    assert "t=1," not in new_hash
    await login(client, user)  # the upgraded hash verifies


async def test_the_docs_authorize_button_uses_the_login_form(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    (flow,) = [
        scheme["flows"]["password"] for scheme in schemes.values() if scheme["type"] == "oauth2"
    ]
    assert flow["tokenUrl"] == LOGIN
    login_body = schema["paths"][LOGIN]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in login_body
    # A form cannot send null: optional fields are left out, so the schema offers no null.
    form = schema["components"]["schemas"][
        login_body["application/x-www-form-urlencoded"]["schema"]["$ref"].rsplit("/", 1)[-1]
    ]
    assert form["properties"]["grant_type"] == {
        "type": "string",
        "pattern": "^password$",
        "title": "Grant Type",
    }
    assert all("anyOf" not in field for field in form["properties"].values())
    assert "429" in schema["paths"][LOGIN]["post"]["responses"]
    assert "429" in schema["paths"]["/api/v1/auth/refresh"]["post"]["responses"]
    # Protected operations declare the scheme, so Swagger UI sends the token.
    assert schema["paths"]["/api/v1/users/me"]["get"]["security"]


async def test_no_password_or_token_reaches_the_logs(
    client: AsyncClient, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await client.get("/api/v1/users/me", headers=bearer("x.y.z"))
    output = capsys.readouterr()
    logs = output.out + output.err
    assert "/api/v1/auth/refresh" in logs  # the access log did run
    for secret in (DEFAULT_PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in logs
