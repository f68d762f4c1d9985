"""Password policy and hashing."""

from __future__ import annotations

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from dossier.core.security.passwords import (
    PasswordPolicyError,
    check_password_policy,
    common_passwords,
    hash_password,
    is_common_password,
    verify_password,
)


def test_the_common_password_list_is_shipped() -> None:
    assert len(common_passwords()) > 10_000
    assert all(len(password) >= 8 for password in common_passwords())
    assert is_common_password("Password1")
    assert is_common_password("qwertyuiop")
    assert not is_common_password("correct horse battery staple")


@pytest.mark.parametrize("password", ["1234567", "x" * 129, "sunshine", "PRINCESS"])
def test_policy_refuses(password: str) -> None:
    with pytest.raises(PasswordPolicyError):
        check_password_policy(password)


@pytest.mark.parametrize("password", ["eight ch", "x" * 128, "no Rules, just length 🙂"])
def test_policy_accepts_without_composition_rules(password: str) -> None:
    check_password_policy(password)


async def test_verify_and_upgrade() -> None:
    current = await hash_password("a fine passphrase")
    assert await verify_password("a fine passphrase", current) == (True, None)
    assert (await verify_password("wrong", current))[0] is False
    old = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),)).hash("a fine passphrase")
    valid, upgraded = await verify_password("a fine passphrase", old)
    assert valid
    assert upgraded is not None
    assert upgraded != old
    assert await verify_password("anything", "not-a-hash") == (False, None)
