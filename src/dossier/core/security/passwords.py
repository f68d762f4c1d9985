"""Password hashing (pwdlib + Argon2) and the password policy."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


class PasswordPolicyError(ValueError):
    """The password is not acceptable; the message says why, for the client."""


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def check_password_policy(password: str) -> None:
    """Length only, plus a list of common passwords (no composition-rule theatre)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"must be at most {MAX_PASSWORD_LENGTH} characters long")


def hash_password_sync(password: str) -> str:
    return password_hasher().hash(password)


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(hash_password_sync, password)
