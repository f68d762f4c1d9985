"""Brute-force protection: login and refresh limited per account and per client address."""

from __future__ import annotations

from collections.abc import Callable

from dossier.config import Settings
from dossier.db.engine import Database
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.helpers import assert_problem

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


async def test_login_is_limited_per_account(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    settings = make_settings(rate_limit_login_account="2/minute")
    async with client_for(settings) as (_app, http):
        for _ in range(2):
            response = await http.post(
                LOGIN, data={"username": user.email, "password": "wrong-pass"}
            )
            assert response.status_code == 401
        # Even the right password is refused now: the account is locked for the window.
        response = await http.post(
            LOGIN, data={"username": user.email.upper(), "password": DEFAULT_PASSWORD}
        )
        assert_problem(response, 429, "rate_limited")
        retry_after = int(response.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert response.headers["ratelimit-policy"] == '"login-account";q=2;w=60'
        assert response.headers["ratelimit"].startswith('"login-account";r=0;t=')
        # Another account from the same address is not affected.
        other = await create_user(database)
        response = await http.post(
            LOGIN, data={"username": other.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200


async def test_login_is_limited_per_client_address(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    settings = make_settings(rate_limit_login_address="3/minute")
    async with client_for(settings, client=("198.51.100.1", 1000)) as (_app, http):
        for number in range(3):
            response = await http.post(
                LOGIN, data={"username": f"nobody{number}@example.com", "password": "whatever1"}
            )
            assert response.status_code == 401
        response = await http.post(
            LOGIN, data={"username": "nobody9@example.com", "password": "whatever1"}
        )
        assert_problem(response, 429, "rate_limited")
        assert int(response.headers["retry-after"]) >= 1
    async with client_for(settings, client=("198.51.100.2", 1000)) as (_app, http):
        response = await http.post(
            LOGIN, data={"username": "nobody9@example.com", "password": "whatever1"}
        )
        assert response.status_code == 401


async def test_refresh_is_limited_per_address_and_account(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    settings = make_settings(
        rate_limit_refresh_address="2/minute", rate_limit_refresh_account="1/minute"
    )
    async with client_for(settings, client=("198.51.100.3", 1000)) as (_app, http):
        tokens = (
            await http.post(LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD})
        ).json()
        first = await http.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert first.status_code == 200
        # Per account: the second refresh of this user in the window is refused.
        second = await http.post(REFRESH, json={"refresh_token": first.json()["refresh_token"]})
        assert_problem(second, 429, "rate_limited")
        # Per address: a third attempt of any kind from here is refused before the lookup.
        third = await http.post(REFRESH, json={"refresh_token": "unknown"})
        assert_problem(third, 429, "rate_limited")
        assert "retry-after" in third.headers


async def test_limits_can_be_turned_off(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    settings = make_settings(rate_limit_enabled=False, rate_limit_login_address="1/minute")
    async with client_for(settings) as (_app, http):
        for _ in range(3):
            response = await http.post(
                LOGIN, data={"username": "x@example.com", "password": "whatever1"}
            )
            assert response.status_code == 401
