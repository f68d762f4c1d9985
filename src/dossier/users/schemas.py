"""Request and response bodies of the users module (never a password hash)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from dossier.core.schemas import NOT_BLANK
from dossier.core.security.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordPolicyError,
    check_password_policy,
)
from dossier.models.user import Role


def _valid_email(value: str) -> str:
    """Syntax only: no DNS look-up. Private and special-use domains (intranet mail on
    `.local`, `.test`, …) are accepted, which email-validator refuses on its own: such an
    address is checked with a stand-in domain for its local part and its domain's syntax."""
    value = value.strip()
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        local, at, domain = value.rpartition("@")
        special = at and domain and "special-use" in str(exc)
        if not special:
            raise ValueError(f"not a valid email address: {exc}") from exc
    try:
        validate_email(f"{local}@example.com", check_deliverability=False)
        validate_email(f"postmaster@{domain}.example", check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc
    return f"{local}@{domain.lower()}"


Email = Annotated[
    str,
    Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(_valid_email),
]


def _acceptable_password(value: str) -> str:
    try:
        check_password_policy(value)
    except PasswordPolicyError as exc:
        raise ValueError(f"password {exc}") from exc
    return value


NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="8 to 128 characters, not one of the most common passwords.",
    ),
    AfterValidator(_acceptable_password),
]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NOT_BLANK),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: NewPassword
    display_name: DisplayName


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


# PATCH bodies: every field optional, none nullable (absent = unchanged; `null` is refused).
class UserSelfUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName = Field(default=None)  # type: ignore[assignment]


class UserAdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName = Field(default=None)  # type: ignore[assignment]
    role: Role = Field(default=None)  # type: ignore[assignment]
    is_active: bool = Field(default=None)  # type: ignore[assignment]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: NewPassword


class EmailChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email = Field(description="The new email; you log in with it from now on.")
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


# The `sort` values of the user list (prefix - to reverse).
UserSort = Literal["created_at", "-created_at", "email", "-email"]
