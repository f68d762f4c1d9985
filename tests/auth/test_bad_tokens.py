"""The bad-token matrix (issue point 6): every case is 401 with
``WWW-Authenticate: Bearer error="invalid_token"``, and none is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from httpx import AsyncClient

from dossier.core.security.tokens import ACCESS_KEY_LABEL, AUDIENCE, ISSUER, derive_key, key_id
from dossier.db.engine import Database
from dossier.models.user import User
from tests.conftest import TEST_SECRET
from tests.factories import access_token, bearer, create_user, login
from tests.helpers import assert_problem

ME = "/api/v1/users/me"
KEY = derive_key(TEST_SECRET, ACCESS_KEY_LABEL)
KID = key_id(KEY)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(user: User, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "role": user.role,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "ver": user.token_version,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], *, key: bytes = KEY, kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def unsigned(claims: dict[str, Any], alg: str) -> str:
    return f"{_b64({'alg': alg, 'typ': 'JWT', 'kid': KID})}.{_b64(claims)}."


def rs256(claims: dict[str, Any]) -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": KID})


def hs256_with_public_key(claims: dict[str, Any]) -> str:
    """The classic confusion: an RSA public key used as the HMAC secret."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": KID})
    payload = _b64(claims)
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{header}.{payload}.{flipped}{signature[1:]}"


Maker = Callable[[FastAPI, AsyncClient, Database, User], Awaitable[str]]


async def _deactivate(database: Database, user: User) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.is_active = False


async def _revoked(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
    tokens = await login(client, user)
    headers = bearer(tokens["access_token"])
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 204
    return str(tokens["access_token"])


async def _ended_by_logout_all(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
    old = access_token(app, user)
    current = await login(client, user)
    response = await client.post("/api/v1/auth/logout-all", headers=bearer(current["access_token"]))
    assert response.status_code == 204
    return old


async def _deactivated(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
    token = access_token(app, user)
    await _deactivate(db, user)
    return token


async def _deleted(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
    token = access_token(app, user)
    async with db.writer_sessionmaker() as session, session.begin():
        stored = await session.get(User, user.id)
        await session.delete(stored)
    return token


async def _refresh_as_access(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
    return str((await login(client, user))["refresh_token"])


def _static(make: Callable[[User], str]) -> Maker:
    async def maker(app: FastAPI, client: AsyncClient, db: Database, user: User) -> str:
        return make(user)

    return maker


CASES: dict[str, Maker] = {
    "malformed": _static(lambda user: "abc.def.ghi"),
    "not-a-jwt-at-all": _static(lambda user: "garbage"),
    "bad-signature": _static(lambda user: tampered(sign(claims_for(user)))),
    "signed-with-another-secret": _static(
        lambda user: sign(claims_for(user), key=derive_key("x" * 40, ACCESS_KEY_LABEL))
    ),
    "alg-none": _static(lambda user: unsigned(claims_for(user), "none")),
    "alg-None": _static(lambda user: unsigned(claims_for(user), "None")),
    "alg-NONE": _static(lambda user: unsigned(claims_for(user), "NONE")),
    "alg-nOnE": _static(lambda user: unsigned(claims_for(user), "nOnE")),
    "rs256-token": _static(lambda user: rs256(claims_for(user))),
    "hs256-with-rsa-public-key": _static(lambda user: hs256_with_public_key(claims_for(user))),
    "expired": _static(
        lambda user: sign(
            claims_for(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
        )
    ),
    "not-yet-valid": _static(lambda user: sign(claims_for(user, nbf=int(time.time()) + 3600))),
    "wrong-audience": _static(lambda user: sign(claims_for(user, aud="someone-else"))),
    "wrong-issuer": _static(lambda user: sign(claims_for(user, iss="evil"))),
    "unknown-kid": _static(lambda user: sign(claims_for(user), kid="0123456789ab")),
    "no-kid": _static(lambda user: jwt.encode(claims_for(user), KEY, algorithm="HS256")),
    "not-an-access-token": _static(lambda user: sign(claims_for(user, typ="refresh"))),
    "missing-jti": _static(lambda user: sign(claims_for(user, jti=None))),
    "subject-not-a-uuid": _static(lambda user: sign(claims_for(user, sub="admin"))),
    "stale-session-version": _static(
        lambda user: sign(claims_for(user, ver=user.token_version + 1))
    ),
    "refresh-token-as-access-token": _refresh_as_access,
    "revoked-by-logout": _revoked,
    "ended-by-logout-all": _ended_by_logout_all,
    "user-deactivated": _deactivated,
    "user-deleted": _deleted,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_access_token_is_refused(
    case: str, app: FastAPI, client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    token = await CASES[case](app, client, database, user)
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # Unsafe methods are refused the same way.
    response = await client.patch(ME, json={"display_name": "x"}, headers=bearer(token))
    assert_problem(response, 401, "invalid_token")


async def test_a_good_token_is_accepted(
    app: FastAPI, client: AsyncClient, database: Database
) -> None:
    """The control case: the same construction with nothing wrong passes."""
    user = await create_user(database)
    response = await client.get(ME, headers=bearer(sign(claims_for(user))))
    assert response.status_code == 200, response.text


async def test_missing_token_gets_a_bare_challenge(client: AsyncClient) -> None:
    # RFC 6750 §3.1: without any credentials the challenge carries no error code.
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        response = await client.get(ME, headers=headers)
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("kind", ["access-token", "garbage", "used-twice"])
async def test_bad_refresh_token_is_refused(
    kind: str, app: FastAPI, client: AsyncClient, database: Database
) -> None:
    user = await create_user(database)
    tokens = await login(client, user)
    presented = {
        "access-token": tokens["access_token"],
        "garbage": "x" * 43,
        "used-twice": tokens["refresh_token"],
    }[kind]
    if kind == "used-twice":
        first = await client.post("/api/v1/auth/refresh", json={"refresh_token": presented})
        assert first.status_code == 200
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": presented})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
