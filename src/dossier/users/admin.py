"""Creating the first administrator from the command line."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from dossier.config import Settings
from dossier.core.security.passwords import (
    PasswordPolicyError,
    check_password_policy,
    hash_password,
)
from dossier.db.engine import create_database
from dossier.models.user import Role, User


class AdminCreationError(RuntimeError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_admin_user(
    settings: Settings, *, email: str, password: str, display_name: str | None = None
) -> uuid.UUID:
    from email_validator import EmailNotValidError, validate_email

    try:
        email = normalise_email(
            validate_email(email.strip(), check_deliverability=False).normalized
        )
    except EmailNotValidError as exc:
        raise AdminCreationError(f"invalid email: {exc}") from exc
    try:
        check_password_policy(password)
    except PasswordPolicyError as exc:
        raise AdminCreationError(f"password {exc}") from exc

    database = create_database(settings)
    try:
        async with database.writer_sessionmaker() as session, session.begin():
            existing = await session.scalar(select(User.id).where(User.email == email))
            if existing is not None:
                raise AdminCreationError(f"a user with email {email} already exists")
            user = User(
                email=email,
                display_name=(display_name or email.split("@", 1)[0])[:100],
                role=Role.ADMIN.value,
                password_hash=await hash_password(password),
            )
            session.add(user)
        return user.id
    finally:
        await database.dispose()
