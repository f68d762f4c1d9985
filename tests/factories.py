"""Build real rows and real credentials for tests (no mocks of our own parts)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from fastapi import FastAPI

from dossier.core.security.passwords import hash_password_sync
from dossier.db.engine import Database
from dossier.models.user import Role, User

_counter = itertools.count(1)
DEFAULT_PASSWORD = "a perfectly fine passphrase"
# Hashing with Argon2 is deliberately slow; tests share one hash of the default password.
_DEFAULT_HASH: str | None = None


def _default_hash() -> str:
    global _DEFAULT_HASH
    if _DEFAULT_HASH is None:
        _DEFAULT_HASH = hash_password_sync(DEFAULT_PASSWORD)
    return _DEFAULT_HASH


async def create_user(
    database: Database,
    *,
    email: str | None = None,
    role: Role = Role.USER,
    is_active: bool = True,
    password: str | None = None,
    **fields: Any,
) -> User:
    number = next(_counter)
    user = User(
        email=email or f"user{number}@example.com",
        display_name=fields.pop("display_name", f"User {number}"),
        role=role.value,
        is_active=is_active,
        password_hash=hash_password_sync(password) if password else _default_hash(),
        **fields,
    )
    async with database.writer_sessionmaker() as session, session.begin():
        session.add(user)
    return user


def access_token(app: FastAPI, user: User) -> str:
    token, _claims = app.state.token_codec.issue(
        subject=user.id, role=user.role, version=user.token_version
    )
    return str(token)


def auth_headers(app: FastAPI, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(app, user)}"}


async def login(
    client: httpx.AsyncClient, user: User, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    """Log in through the API; returns the token response body."""
    response = await client.post(
        "/api/v1/auth/login", data={"username": user.email, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
