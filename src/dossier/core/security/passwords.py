"""Password hashing (pwdlib + Argon2) and the password policy.

The policy follows NIST SP 800-63B: a length range and a list of commonly used passwords, no
composition rules. The list (``common_passwords.txt.gz``, see ``common_passwords.NOTICE``)
holds the ~11,600 entries of 8+ characters of zxcvbn's password frequency list.
"""

from __future__ import annotations

import asyncio
import gzip
import secrets
from functools import lru_cache
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


class PasswordPolicyError(ValueError):
    """The password is not acceptable; the message says why, for the client."""


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    data = resources.files("dossier.core.security").joinpath("common_passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def is_common_password(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def check_password_policy(password: str) -> None:
    """Length only, plus a list of common passwords (no composition-rule theatre)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if is_common_password(password):
        raise PasswordPolicyError("is one of the most commonly used passwords; choose another")


def hash_password_sync(password: str) -> str:
    return password_hasher().hash(password)


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(hash_password_sync, password)


def _verify_and_update_sync(password: str, password_hash: str) -> tuple[bool, str | None]:
    try:
        return password_hasher().verify_and_update(password, password_hash)
    except Exception:  # an unknown or corrupt hash never verifies
        return False, None


async def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """``(valid, new_hash)``; ``new_hash`` is set when the stored hash's parameters are stale."""
    return await asyncio.to_thread(_verify_and_update_sync, password, password_hash)


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash of a random secret, verified when an account does not exist, so that a login
    for an unknown email costs the same Argon2 work as one for a known email."""
    return hash_password_sync(secrets.token_urlsafe(32))


async def verify_against_dummy(password: str) -> None:
    dummy = await asyncio.to_thread(dummy_password_hash)
    await verify_password(password, dummy)
