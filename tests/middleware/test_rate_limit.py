"""Rate limits on every API request, in both shapes, and when Redis dies mid-test."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import Role
from tests.conftest import client_for
from tests.factories import auth_headers, create_user
from tests.helpers import assert_problem

ME = "/api/v1/users/me"


def assert_limit_headers(response: httpx.Response, policy: str, limit: int) -> None:
    assert response.headers["ratelimit-policy"].startswith(f'"{policy}";q={limit};w=')
    assert response.headers["ratelimit"].startswith(f'"{policy}";r=')
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert int(response.headers["x-ratelimit-remaining"]) >= 0
    assert int(response.headers["x-ratelimit-reset"]) >= 0


async def test_anonymous_callers_are_limited_by_address(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_anonymous="3/minute")
    async with client_for(settings, client=("198.51.100.1", 1000)) as (app, http):
        responses = [await http.get(ME) for _ in range(4)]
        assert [r.status_code for r in responses] == [401, 401, 401, 429]
        assert_limit_headers(responses[0], "anonymous", 3)
        assert responses[0].headers["x-ratelimit-remaining"] == "2"
        refused = assert_problem(responses[3], 429, "rate_limited")
        assert int(responses[3].headers["retry-after"]) >= 1
        assert "retry" in refused["detail"]
        # a different address has its own budget
        other = httpx.ASGITransport(app=app, client=("198.51.100.2", 1000))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as second:
            assert (await second.get(ME)).status_code == 401


async def test_authenticated_callers_are_limited_per_user_and_role(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    settings = make_settings(
        rate_limit_default="2/minute",
        rate_limit_moderator="4/minute",
        rate_limit_anonymous="50/minute",
    )
    async with client_for(settings) as (app, http):
        alice, bob = await create_user(database), await create_user(database)
        moderator = await create_user(database, role=Role.MODERATOR)
        statuses = [
            (await http.get(ME, headers=auth_headers(app, alice))).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        # same address, another user: not affected
        bob_response = await http.get(ME, headers=auth_headers(app, bob))
        assert bob_response.status_code == 200
        assert_limit_headers(bob_response, "user", 2)
        moderator_statuses = [
            (await http.get(ME, headers=auth_headers(app, moderator))).status_code for _ in range(5)
        ]
        assert moderator_statuses == [200, 200, 200, 200, 429]


async def test_a_forged_token_counts_against_the_address(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_anonymous="2/minute", rate_limit_default="100/minute")
    async with client_for(settings) as (_app, http):
        forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad"}
        statuses = [(await http.get(ME, headers=forged)).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]


async def test_route_limits_are_stricter(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_register="2/hour", rate_limit_anonymous="100/minute")
    async with client_for(settings) as (_app, http):
        responses = [
            await http.post(
                "/api/v1/auth/register",
                json={
                    "email": f"new{index}@example.com",
                    "password": "a long passphrase here",
                    "display_name": "New",
                },
            )
            for index in range(3)
        ]
        assert [r.status_code for r in responses] == [201, 201, 429]
        assert_limit_headers(responses[1], "register", 2)
        assert responses[2].headers["ratelimit-policy"].startswith('"register"')


async def test_forged_forwarded_for_from_untrusted_peer_changes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_anonymous="2/minute", trusted_proxies=["10.0.0.0/8"])
    async with client_for(settings, client=("203.0.113.77", 1)) as (_app, http):
        statuses = [
            (await http.get(ME, headers={"X-Forwarded-For": f"192.0.2.{index}"})).status_code
            for index in range(3)
        ]
        assert statuses == [401, 401, 429]


async def test_trusted_proxy_gives_each_client_its_budget(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_anonymous="1/minute", trusted_proxies=["10.0.0.0/8"])
    async with client_for(settings, client=("10.0.0.5", 1)) as (_app, http):
        for index in range(3):
            response = await http.get(ME, headers={"X-Forwarded-For": f"192.0.2.{index}"})
            assert response.status_code == 401
        again = await http.get(ME, headers={"X-Forwarded-For": "192.0.2.0"})
        assert again.status_code == 429


async def test_health_and_docs_are_not_limited(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_anonymous="1/minute")
    async with client_for(settings) as (_app, http):
        for _ in range(3):
            response = await http.get("/health/live")
            assert response.status_code == 200
            assert "ratelimit" not in response.headers


async def test_disabled_limits_add_no_headers(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_enabled=False, rate_limit_anonymous="1/minute")
    async with client_for(settings) as (_app, http):
        for _ in range(3):
            response = await http.get(ME)
            assert response.status_code == 401
            assert "ratelimit" not in response.headers


async def test_limited_operations_document_429(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if path.startswith("/api/"):
                assert "429" in operation["responses"], f"{method} {path}"


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, so stopping it disturbs nothing else."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis as sync_redis

    client = sync_redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except sync_redis.ConnectionError:
            import time

            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


async def test_redis_stopped_mid_test_fails_open_and_never_500(
    make_settings: Callable[..., Settings],
    private_redis: tuple[str, subprocess.Popen[bytes]],
    database: Database,
) -> None:
    url, server = private_redis
    settings = make_settings(redis_url=url, rate_limit_anonymous="3/minute")
    errors_before = REGISTRY.get_sample_value("dossier_rate_limit_backend_errors_total") or 0.0
    async with client_for(settings) as (_app, http):
        first = [await http.get(ME) for _ in range(4)]
        assert [r.status_code for r in first] == [401, 401, 401, 429]  # counted in Redis
        server.kill()
        await asyncio.to_thread(server.wait)
        after = [await http.get(ME) for _ in range(3)]
        # fail open: the limiter lets requests through; the route answers as usual
        assert [r.status_code for r in after] == [401, 401, 401]
        assert "ratelimit" in after[0].headers
        # the token deny-list lives in Redis too: it fails closed, with a 503, never a 500
        user = await create_user(database)
        denied = await http.get(ME, headers=auth_headers(_app, user))
        assert_problem(denied, 503, "service_unavailable")
        assert denied.headers["retry-after"] == "5"
    errors_after = REGISTRY.get_sample_value("dossier_rate_limit_backend_errors_total") or 0.0
    assert errors_after - errors_before >= 3


async def test_a_stalled_redis_is_given_up_after_its_time_limit(
    make_settings: Callable[..., Settings],
    private_redis: tuple[str, subprocess.Popen[bytes]],
    database: Database,
) -> None:
    # A Redis that stops answering (stopped process, full network buffer) is a slow outage:
    # every call gives up after DOSSIER_REDIS_TIMEOUT_SECONDS and the fallbacks apply before the
    # request's own time limit (a 503 request_timeout) would end it.
    url, server = private_redis
    settings = make_settings(redis_url=url, redis_timeout_seconds=0.2, request_timeout_seconds=1.5)
    async with client_for(settings) as (app, http):
        user = await create_user(database)
        assert (await http.get(ME)).status_code == 401  # connections to Redis are open
        server.send_signal(signal.SIGSTOP)
        try:
            anonymous = await http.get(ME)
            signed_in = await http.get(ME, headers=auth_headers(app, user))
        finally:
            server.send_signal(signal.SIGCONT)
    assert_problem(anonymous, 401)  # the limiter failed open
    assert_problem(signed_in, 503, "service_unavailable")  # the deny-list failed closed
    assert signed_in.headers["retry-after"] == "5"
