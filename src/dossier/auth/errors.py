"""Errors of authentication: each carries its status and stable code."""

from __future__ import annotations

from typing import Any

from dossier.core.errors import Forbidden, NotAuthenticated


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_detail = "The email or password is incorrect."


class InvalidAccessToken(NotAuthenticated):
    """Every bad-token case answers alike (RFC 6750 ``error="invalid_token"``)."""

    code = "invalid_token"
    default_detail = "The access token is invalid, expired or revoked."

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, error="invalid_token", **kw)


class InvalidRefreshToken(InvalidAccessToken):
    default_detail = "The refresh token is invalid, expired or revoked."


class RefreshTokenReused(InvalidRefreshToken):
    """A rotated refresh token came back: the family is revoked, and that must be kept."""

    code = "refresh_token_reused"
    default_detail = (
        "This refresh token was already used; every session of its login has been ended."
    )
    persist_changes = True


class RegistrationClosed(Forbidden):
    code = "registration_disabled"
    default_detail = "Registration is turned off on this server."


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    default_detail = (
        "A request authenticated by cookie must send the CSRF token in the X-CSRF-Token header."
    )
