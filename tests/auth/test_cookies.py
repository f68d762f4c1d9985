"""Cookie mode (browser sessions): HttpOnly cookies, SameSite=Lax, double-submit CSRF."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from http.cookies import SimpleCookie

import httpx
from fastapi import FastAPI

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import User
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.helpers import assert_problem

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/users/me"


def _set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    cookies: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            cookies[name] = cookie
    return cookies


async def _login(http: httpx.AsyncClient, user: User) -> httpx.Response:
    response = await http.post(LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return response


async def test_login_sets_hardened_cookies(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings(auth_cookies_enabled=True)) as (_app, http):
        response = await _login(http, user)
    cookies = _set_cookies(response)
    assert set(cookies) == {"dossier_access", "dossier_refresh", "dossier_csrf"}
    for name in ("dossier_access", "dossier_refresh"):
        morsel = cookies[name][name]
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "lax"
        assert not morsel["secure"]  # development: plain http on localhost works
    assert cookies["dossier_refresh"]["dossier_refresh"]["path"] == "/api/v1/auth"
    assert not cookies["dossier_csrf"]["dossier_csrf"]["httponly"]  # the page's script reads it


async def test_cookies_are_secure_in_production(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings(auth_cookies_enabled=True)) as (app, http):
        app.state.auth = dataclasses.replace(app.state.auth, cookie_secure=True)
        response = await _login(http, user)
    for name, cookie in _set_cookies(response).items():
        assert cookie[name]["secure"] is True


async def test_cookie_session_needs_csrf_on_unsafe_methods(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings(auth_cookies_enabled=True)) as (_app, http):
        await _login(http, user)  # the client keeps the cookies
        csrf = http.cookies["dossier_csrf"]
        # Safe methods: the cookie alone authenticates.
        assert (await http.get(ME)).status_code == 200
        # Unsafe methods need the double-submitted token.
        response = await http.patch(ME, json={"display_name": "Forged"})
        assert_problem(response, 403, "csrf_failed")
        response = await http.patch(
            ME, json={"display_name": "Forged"}, headers={"X-CSRF-Token": "wrong"}
        )
        assert_problem(response, 403, "csrf_failed")
        response = await http.patch(
            ME, json={"display_name": "Real"}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 200
        assert response.json()["display_name"] == "Real"

        # Refresh by cookie: CSRF too, then rotation sets new cookies.
        assert_problem(await http.post("/api/v1/auth/refresh"), 403, "csrf_failed")
        old_refresh = http.cookies["dossier_refresh"]
        response = await http.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 200, response.text
        assert http.cookies["dossier_refresh"] != old_refresh

        # Logout by cookie clears them.
        csrf = http.cookies["dossier_csrf"]
        response = await http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 204
        assert "dossier_access" not in http.cookies
        assert_problem(await http.get(ME), 401)


async def test_cookies_are_ignored_unless_enabled(app: FastAPI, database: Database) -> None:
    user = await create_user(database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await _login(http, user)
        assert "set-cookie" not in response.headers
        token = response.json()["access_token"]
        http.cookies.set("dossier_access", token)
        assert_problem(await http.get(ME), 401, "not_authenticated")
