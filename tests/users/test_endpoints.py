"""The users API: own account, password change, administration, visibility."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.models.user import Role
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, auth_headers, bearer, create_user, login
from tests.helpers import assert_problem

ME = "/api/v1/users/me"
USERS = "/api/v1/users"


def assert_no_secrets(response: Response) -> None:
    assert "password" not in response.text
    assert "$argon2" not in response.text


# --- own account --------------------------------------------------------------------------


async def test_read_me(client: AsyncClient, app: FastAPI, database: Database) -> None:
    user = await create_user(database, display_name="Grace")
    response = await client.get(ME, headers=auth_headers(app, user))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["display_name"] == "Grace"
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert_no_secrets(response)
    assert_problem(await client.get(ME), 401, "not_authenticated")


async def test_update_me(client: AsyncClient, app: FastAPI, database: Database) -> None:
    user = await create_user(database)
    headers = auth_headers(app, user)
    response = await client.patch(ME, json={"display_name": "  New Name "}, headers=headers)
    assert response.status_code == 200
    assert response.json()["display_name"] == "New Name"
    assert (await client.patch(ME, json={}, headers=headers)).json()["display_name"] == "New Name"
    assert_problem(await client.patch(ME, json={"display_name": "x"}), 401)


@pytest.mark.parametrize(
    "body",
    [{"role": "admin"}, {"display_name": None}, {"display_name": ""}, {"email": "x@example.com"}],
)
async def test_update_me_refuses_other_fields(
    client: AsyncClient, app: FastAPI, database: Database, body: dict[str, object]
) -> None:
    user = await create_user(database)
    response = await client.patch(ME, json=body, headers=auth_headers(app, user))
    assert_problem(response, 422, "validation_failed")
    assert (await client.get(ME, headers=auth_headers(app, user))).json()["role"] == "user"


async def test_change_password_ends_other_sessions(client: AsyncClient, database: Database) -> None:
    user = await create_user(database)
    current = await login(client, user)
    other = await login(client, user)
    response = await client.post(
        f"{ME}/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a new long passphrase"},
        headers=bearer(current["access_token"]),
    )
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200
    for tokens in (current, other):
        assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert_problem(refreshed, 401)
    response = await client.post(
        "/api/v1/auth/login", data={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert_problem(response, 401, "invalid_credentials")
    await login(client, user, "a new long passphrase")


async def test_change_password_checks_the_current_one_and_the_policy(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await create_user(database)
    headers = auth_headers(app, user)
    url = f"{ME}/password"
    response = await client.post(
        url,
        json={"current_password": "wrong one", "new_password": "another passphrase"},
        headers=headers,
    )
    assert_problem(response, 403, "current_password_incorrect")
    response = await client.post(
        url,
        json={"current_password": DEFAULT_PASSWORD, "new_password": "iloveyou"},
        headers=headers,
    )
    assert_problem(response, 422, "validation_failed")
    response = await client.post(url, json={"current_password": DEFAULT_PASSWORD}, headers=headers)
    assert_problem(response, 422, "validation_failed")
    assert_problem(await client.post(url, json={}), 401)


async def test_change_email(client: AsyncClient, database: Database) -> None:
    user = await create_user(database, email="old@example.com")
    current = await login(client, user)
    other = await login(client, user)
    before = await client.get(ME, headers=bearer(current["access_token"]))
    changed = await client.post(
        f"{ME}/email",
        json={"email": "New@Example.COM", "current_password": DEFAULT_PASSWORD},
        headers=bearer(current["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "new@example.com"  # stored lower-cased
    assert changed.headers["etag"] != before.headers["etag"]
    assert_no_secrets(changed)
    # Sessions stay open: the email is not a credential.
    for tokens in (current, other):
        me = await client.get(ME, headers=bearer(tokens["access_token"]))
        assert me.json()["email"] == "new@example.com"
    # The new email logs in, the old one no longer does.
    response = await client.post(
        "/api/v1/auth/login", data={"username": "old@example.com", "password": DEFAULT_PASSWORD}
    )
    assert_problem(response, 401, "invalid_credentials")
    user.email = "new@example.com"
    await login(client, user)
    # Sending the email you already have changes nothing.
    again = await client.post(
        f"{ME}/email",
        json={"email": "new@example.com", "current_password": DEFAULT_PASSWORD},
        headers=bearer(current["access_token"]),
    )
    assert again.status_code == 200
    assert again.headers["etag"] == changed.headers["etag"]


async def test_change_email_needs_the_password_a_free_email_and_valid_input(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await create_user(database, email="mine@example.com")
    await create_user(database, email="taken@example.com")
    headers = auth_headers(app, user)
    url = f"{ME}/email"
    wrong = {"email": "fresh@example.com", "current_password": "not my password"}
    assert_problem(
        await client.post(url, json=wrong, headers=headers), 403, "current_password_incorrect"
    )
    taken = {"email": "TAKEN@example.com", "current_password": DEFAULT_PASSWORD}
    assert_problem(await client.post(url, json=taken, headers=headers), 409, "email_taken")
    for bad in (
        {"email": "not-an-email", "current_password": DEFAULT_PASSWORD},
        {"email": "fresh@example.com"},
        {"email": "fresh@example.com", "current_password": DEFAULT_PASSWORD, "role": "admin"},
    ):
        assert_problem(await client.post(url, json=bad, headers=headers), 422, "validation_failed")
    assert_problem(await client.post(url, json=taken), 401, "not_authenticated")
    # Nothing above changed anything.
    assert (await client.get(ME, headers=headers)).json()["email"] == "mine@example.com"


async def test_change_email_shares_the_login_limit_of_the_account(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings(rate_limit_login_account="2/minute")) as (app, http):
        for _ in range(2):  # two failed logins use up the account's budget...
            response = await http.post(
                "/api/v1/auth/login", data={"username": user.email, "password": "guessing"}
            )
            assert response.status_code == 401
        # ...so a password attempt through the email change is refused too, even a right one.
        body = {"email": "guess@example.com", "current_password": DEFAULT_PASSWORD}
        response = await http.post(f"{ME}/email", json=body, headers=auth_headers(app, user))
        assert_problem(response, 429, "rate_limited")
        assert "retry-after" in response.headers


async def test_change_email_can_be_turned_off(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database, email="assigned@example.com")
    async with client_for(make_settings(email_change_enabled=False)) as (app, http):
        headers = auth_headers(app, user)
        body = {"email": "chosen@example.com", "current_password": DEFAULT_PASSWORD}
        response = await http.post(f"{ME}/email", json=body, headers=headers)
        assert_problem(response, 403, "email_change_disabled")
        assert (await http.get(ME, headers=headers)).json()["email"] == "assigned@example.com"


# --- listing and reading ------------------------------------------------------------------


async def test_list_needs_moderator(client: AsyncClient, app: FastAPI, database: Database) -> None:
    user = await create_user(database)
    assert_problem(await client.get(USERS, headers=auth_headers(app, user)), 403, "forbidden")
    assert_problem(await client.get(USERS), 401)


async def test_list_filters_and_pages(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    moderator = await create_user(database, role=Role.MODERATOR, email="mod@example.com")
    for number in range(3):
        await create_user(database, email=f"team{number}@example.com")
    await create_user(database, email="gone@example.com", is_active=False)
    await create_user(database, email="boss@example.com", role=Role.ADMIN)
    headers = auth_headers(app, moderator)

    response = await client.get(USERS, params={"page": 1}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 6
    assert body["page"] == 1
    assert body["limit"] == 20
    assert body["next_cursor"] is None
    assert_no_secrets(response)
    assert "link" not in response.headers

    page = await client.get(USERS, params={"limit": 2, "page": 2}, headers=headers)
    assert [item["email"] for item in page.json()["items"]] == [
        item["email"] for item in body["items"][2:4]
    ]
    assert 'rel="next"' in page.headers["link"]
    assert "page=3" in page.headers["link"]

    # Keyset mode (the default): follow next_cursor through every user, sorted by email.
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 4, "sort": "email"}
    for _ in range(5):  # bounded
        keyset = (await client.get(USERS, params=params, headers=headers)).json()
        assert keyset["total"] is None
        seen += [item["email"] for item in keyset["items"]]
        if keyset["next_cursor"] is None:
            break
        params["cursor"] = keyset["next_cursor"]
    assert seen == sorted(item["email"] for item in body["items"])

    def emails(response: Response) -> set[str]:
        return {item["email"] for item in response.json()["items"]}

    admins = await client.get(USERS, params={"role": "admin"}, headers=headers)
    assert emails(admins) == {"boss@example.com"}
    inactive = await client.get(USERS, params={"is_active": "false"}, headers=headers)
    assert emails(inactive) == {"gone@example.com"}
    team = await client.get(USERS, params={"email_prefix": "TEAM"}, headers=headers)
    assert emails(team) == {f"team{n}@example.com" for n in range(3)}
    wildcard = await client.get(USERS, params={"email_prefix": "%"}, headers=headers)
    assert wildcard.json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"page": 0},
        {"role": "root"},
        {"is_active": "maybe"},
        {"sort": "password_hash"},
    ],
)
async def test_list_validates_its_query(
    client: AsyncClient, app: FastAPI, database: Database, params: dict[str, str | int]
) -> None:
    moderator = await create_user(database, role=Role.MODERATOR)
    response = await client.get(USERS, params=params, headers=auth_headers(app, moderator))
    assert_problem(response, 422, "validation_failed")


async def test_list_refuses_a_forged_cursor(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    moderator = await create_user(database, role=Role.MODERATOR)
    response = await client.get(
        USERS, params={"cursor": "forged.cursor"}, headers=auth_headers(app, moderator)
    )
    assert_problem(response, 400, "invalid_cursor")


async def test_read_user_visibility(client: AsyncClient, app: FastAPI, database: Database) -> None:
    alice, bob = await create_user(database), await create_user(database)
    moderator = await create_user(database, role=Role.MODERATOR)
    assert (
        await client.get(f"{USERS}/{alice.id}", headers=auth_headers(app, alice))
    ).status_code == 200
    # Another user's account does not exist as far as a plain user can tell.
    response = await client.get(f"{USERS}/{bob.id}", headers=auth_headers(app, alice))
    assert_problem(response, 404, "user_not_found")
    response = await client.get(f"{USERS}/{bob.id}", headers=auth_headers(app, moderator))
    assert response.status_code == 200
    assert_no_secrets(response)
    response = await client.get(f"{USERS}/{uuid.uuid4()}", headers=auth_headers(app, moderator))
    assert_problem(response, 404, "user_not_found")
    response = await client.get(f"{USERS}/not-a-uuid", headers=auth_headers(app, moderator))
    assert_problem(response, 422)
    assert_problem(await client.get(f"{USERS}/{bob.id}"), 401)


# --- administration -----------------------------------------------------------------------


async def test_admin_changes_a_role_with_immediate_effect(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    user = await create_user(database)
    user_headers = auth_headers(app, user)
    assert (await client.get(USERS, headers=user_headers)).status_code == 403
    response = await client.patch(
        f"{USERS}/{user.id}",
        json={"role": "moderator", "display_name": "Mo"},
        headers=auth_headers(app, admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "moderator"
    assert_no_secrets(response)
    # The same token now carries moderator rights: roles are read from the database.
    assert (await client.get(USERS, headers=user_headers)).status_code == 200


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
async def test_only_admins_write_users(
    client: AsyncClient, app: FastAPI, database: Database, role: Role
) -> None:
    caller = await create_user(database, role=role)
    target = await create_user(database)
    headers = auth_headers(app, caller)
    # Nobody raises their own role, and non-admins change nobody.
    response = await client.patch(f"{USERS}/{caller.id}", json={"role": "admin"}, headers=headers)
    assert_problem(response, 403, "forbidden")
    response = await client.patch(
        f"{USERS}/{target.id}", json={"is_active": False}, headers=headers
    )
    assert_problem(response, 403, "forbidden")
    assert_problem(await client.delete(f"{USERS}/{target.id}", headers=headers), 403, "forbidden")
    assert_problem(await client.patch(f"{USERS}/{target.id}", json={"role": "admin"}), 401)
    assert_problem(await client.delete(f"{USERS}/{target.id}"), 401)


async def test_admin_update_validation_and_not_found(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    headers = auth_headers(app, admin)
    for body in ({"role": "root"}, {"email": "x@example.com"}, {"is_active": None}):
        response = await client.patch(f"{USERS}/{admin.id}", json=body, headers=headers)
        assert_problem(response, 422, "validation_failed")
    response = await client.patch(f"{USERS}/{uuid.uuid4()}", json={"role": "user"}, headers=headers)
    assert_problem(response, 404, "user_not_found")
    assert_problem(await client.delete(f"{USERS}/{uuid.uuid4()}", headers=headers), 404)


async def test_the_last_active_admin_stays(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    await create_user(
        database, role=Role.ADMIN, is_active=False
    )  # an inactive admin does not count
    headers = auth_headers(app, admin)
    url = f"{USERS}/{admin.id}"
    for body in ({"role": "moderator"}, {"is_active": False}):
        assert_problem(await client.patch(url, json=body, headers=headers), 409, "last_admin")
    assert_problem(await client.delete(url, headers=headers), 409, "last_admin")
    # With a second active admin, the first may step down.
    await create_user(database, role=Role.ADMIN)
    response = await client.patch(url, json={"role": "moderator"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["role"] == "moderator"


async def test_deactivation_ends_sessions_at_once(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    user = await create_user(database)
    tokens = await login(client, user)
    response = await client.patch(
        f"{USERS}/{user.id}", json={"is_active": False}, headers=auth_headers(app, admin)
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert_problem(
        await client.get(ME, headers=bearer(tokens["access_token"])), 401, "invalid_token"
    )
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_problem(refreshed, 401)
    # Reactivated, the user logs in again; the old tokens stay dead.
    await client.patch(
        f"{USERS}/{user.id}", json={"is_active": True}, headers=auth_headers(app, admin)
    )
    assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
    await login(client, user)


async def test_admin_deletes_a_user(client: AsyncClient, app: FastAPI, database: Database) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    user = await create_user(database)
    tokens = await login(client, user)
    headers = auth_headers(app, admin)
    assert (await client.delete(f"{USERS}/{user.id}", headers=headers)).status_code == 204
    assert_problem(await client.get(f"{USERS}/{user.id}", headers=headers), 404)
    assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_problem(refreshed, 401)


# --- conditional requests -----------------------------------------------------------------


async def test_etags_and_conditional_writes(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    user = await create_user(database)
    headers = auth_headers(app, admin)
    url = f"{USERS}/{user.id}"

    first = await client.get(url, headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert first.headers["cache-control"] == "private, no-cache"
    cached = await client.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""

    stale = await client.patch(
        url, json={"display_name": "A"}, headers={**headers, "If-Match": '"stale-0"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    changed = await client.patch(
        url, json={"display_name": "A"}, headers={**headers, "If-Match": etag}
    )
    assert changed.status_code == 200
    new_etag = changed.headers["etag"]
    assert new_etag != etag
    assert (await client.get(url, headers={**headers, "If-None-Match": etag})).status_code == 200
    assert (
        await client.get(url, headers={**headers, "If-None-Match": new_etag})
    ).status_code == 304

    assert_problem(
        await client.delete(url, headers={**headers, "If-Match": etag}), 412, "precondition_failed"
    )
    deleted = await client.delete(url, headers={**headers, "If-Match": new_etag})
    assert deleted.status_code == 204


async def test_me_has_an_etag_and_if_match_can_be_required(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings(require_if_match=True)) as (app, http):
        headers = auth_headers(app, user)
        me = await http.get(ME, headers=headers)
        assert (
            await http.get(ME, headers={**headers, "If-None-Match": me.headers["etag"]})
        ).status_code == 304
        response = await http.patch(ME, json={"display_name": "B"}, headers=headers)
        assert_problem(response, 428, "precondition_required")
        response = await http.patch(
            ME, json={"display_name": "B"}, headers={**headers, "If-Match": me.headers["etag"]}
        )
        assert response.status_code == 200


async def test_update_me_with_a_stale_if_match_is_412(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await create_user(database, display_name="Before")
    headers = auth_headers(app, user)
    read = await client.get(ME, headers=headers)
    old_etag = read.headers["etag"]
    # Another client (another session of the same user) changes the account meanwhile.
    changed = await client.patch(ME, json={"display_name": "Meanwhile"}, headers=headers)
    assert changed.status_code == 200
    current_etag = changed.headers["etag"]
    assert current_etag != old_etag

    stale = await client.patch(
        ME, json={"display_name": "Lost update"}, headers={**headers, "If-Match": old_etag}
    )
    body = assert_problem(stale, 412, "precondition_failed")
    assert body["current_etag"] == current_etag
    assert (await client.get(ME, headers=headers)).json()["display_name"] == "Meanwhile"
    fresh = await client.patch(
        ME, json={"display_name": "After"}, headers={**headers, "If-Match": current_etag}
    )
    assert fresh.status_code == 200
    assert fresh.json()["display_name"] == "After"


async def test_admin_writes_need_if_match_when_the_setting_requires_it(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    user = await create_user(database, display_name="Unchanged")
    async with client_for(make_settings(require_if_match=True)) as (app, http):
        headers = auth_headers(app, admin)
        url = f"{USERS}/{user.id}"
        response = await http.patch(url, json={"display_name": "Changed"}, headers=headers)
        assert_problem(response, 428, "precondition_required")
        assert_problem(await http.delete(url, headers=headers), 428, "precondition_required")
        read = await http.get(url, headers=headers)
        assert read.status_code == 200
        assert read.json()["display_name"] == "Unchanged"

        etag = read.headers["etag"]
        changed = await http.patch(
            url, json={"display_name": "Changed"}, headers={**headers, "If-Match": etag}
        )
        assert changed.status_code == 200
        deleted = await http.delete(url, headers={**headers, "If-Match": changed.headers["etag"]})
        assert deleted.status_code == 204
        assert_problem(await http.get(url, headers=headers), 404, "user_not_found")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_malformed_user_ids_are_422(
    client: AsyncClient, app: FastAPI, database: Database, method: str
) -> None:
    admin = await create_user(database, role=Role.ADMIN)
    body = {"display_name": "x"} if method == "PATCH" else None
    response = await client.request(
        method, f"{USERS}/not-a-uuid", json=body, headers=auth_headers(app, admin)
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert [error["loc"] for error in problem["errors"]] == [["path", "user_id"]]


async def test_two_users_racing_for_one_email_get_one_answer_each(
    client: AsyncClient, app: FastAPI, database: Database
) -> None:
    import asyncio

    first, second = await create_user(database), await create_user(database)
    body = {"email": "contested@example.com", "current_password": DEFAULT_PASSWORD}
    responses = await asyncio.gather(
        *(
            client.post(f"{ME}/email", json=body, headers=auth_headers(app, u))
            for u in (first, second)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    # Whether the loser saw the winner's row or ran into the unique index, it is one answer.
    assert_problem(loser, 409, "email_taken")


async def test_the_unique_index_answers_email_taken_when_the_check_missed_it(
    client: AsyncClient, app: FastAPI, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window between the existence check and the write, forced open: the database's
    unique index refuses the second owner, and the answer is the same 409 email_taken."""
    from dossier.users import repository

    owner = await create_user(database, email="held@example.com")
    other = await create_user(database)

    async def nobody_has_it(_session: object, _email: str) -> bool:
        return False

    monkeypatch.setattr(repository, "email_exists", nobody_has_it)
    body = {"email": "held@example.com", "current_password": DEFAULT_PASSWORD}
    response = await client.post(f"{ME}/email", json=body, headers=auth_headers(app, other))
    assert_problem(response, 409, "email_taken")
    registration = {
        "email": "HELD@example.com",
        "password": "a long passphrase",
        "display_name": "x",
    }
    assert_problem(
        await client.post("/api/v1/auth/register", json=registration), 409, "email_taken"
    )
    me = await client.get(ME, headers=auth_headers(app, owner))
    assert me.json()["email"] == "held@example.com"
