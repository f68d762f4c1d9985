"""Creating the first administrator from the command line."""

from __future__ import annotations

import uuid

from dossier.config import Settings
from dossier.core.security.passwords import PasswordPolicyError, check_password_policy
from dossier.db.engine import create_database
from dossier.models.user import Role
from dossier.users.errors import EmailTaken
from dossier.users.service import create_user


class AdminCreationError(RuntimeError):
    pass


async def create_admin_user(
    settings: Settings, *, email: str, password: str, display_name: str | None = None
) -> uuid.UUID:
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AdminCreationError(f"invalid email: {exc}") from exc
    try:
        check_password_policy(password)
    except PasswordPolicyError as exc:
        raise AdminCreationError(f"password {exc}") from exc

    database = create_database(settings)
    try:
        async with database.writer_sessionmaker() as session, session.begin():
            try:
                user = await create_user(
                    session,
                    email=email,
                    password=password,
                    display_name=(display_name or email.split("@", 1)[0])[:100],
                    role=Role.ADMIN,
                )
            except EmailTaken as exc:
                raise AdminCreationError(
                    f"a user with email {email.lower()} already exists"
                ) from exc
        return user.id
    finally:
        await database.dispose()
