"""Key rotation: tokens name their key (`kid`); a previous secret still verifies its tokens."""

from __future__ import annotations

from collections.abc import Callable

import jwt

from dossier.config import Settings
from dossier.db.engine import Database
from tests.conftest import TEST_SECRET, client_for
from tests.factories import access_token, bearer, create_user
from tests.helpers import assert_problem

NEW_SECRET = "a-brand-new-signing-secret-0123456789-abcdef"
ME = "/api/v1/users/me"


async def test_old_tokens_verify_while_the_old_secret_is_listed(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    user = await create_user(database)
    async with client_for(make_settings()) as (old_app, _http):
        old_token = access_token(old_app, user)

    rotated = make_settings(secret_key=NEW_SECRET, previous_secret_keys=TEST_SECRET)
    async with client_for(rotated) as (app, http):
        new_token = access_token(app, user)
        assert (
            jwt.get_unverified_header(new_token)["kid"]
            != jwt.get_unverified_header(old_token)["kid"]
        )
        assert (await http.get(ME, headers=bearer(old_token))).status_code == 200
        assert (await http.get(ME, headers=bearer(new_token))).status_code == 200

    # Once the old secret is dropped, its tokens no longer verify (unknown kid).
    async with client_for(make_settings(secret_key=NEW_SECRET)) as (_app, http):
        response = await http.get(ME, headers=bearer(old_token))
        assert_problem(response, 401, "invalid_token")
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_previous_keys_accept_a_json_list(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(previous_secret_keys='["' + "a" * 32 + '", "' + "b" * 32 + '"]')
    assert [key.get_secret_value() for key in settings.previous_secret_keys] == ["a" * 32, "b" * 32]
    assert "a" * 32 not in repr(settings)


def test_production_refuses_short_previous_keys(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(env="production", previous_secret_keys="short")
    assert any(
        "DOSSIER_PREVIOUS_SECRET_KEYS" in problem for problem in settings.production_problems()
    )
