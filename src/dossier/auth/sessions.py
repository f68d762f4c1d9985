"""Login sessions: a refresh-token family plus short-lived access tokens.

Separate from ``service.py`` so the users module (password change, deactivation) can end
sessions without importing the login rules.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth import repository
from dossier.auth.runtime import AuthRuntime
from dossier.core.clock import utcnow
from dossier.models.refresh_token import RefreshToken
from dossier.models.user import User

REFRESH_TOKEN_BYTES = 32  # 256 bits


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    refresh_expires_at: datetime
    token_type: str = "bearer"  # noqa: S105  (a token type name, not a secret)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_tokens(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    user: User,
    family_id: uuid.UUID | None = None,
    family_expires_at: datetime | None = None,
) -> TokenPair:
    """A new access token and refresh token: a new family (login) or the next of one."""
    now = utcnow()
    refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    expires_at = family_expires_at or now + runtime.refresh_ttl
    await repository.add_refresh_token(
        session,
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=hash_refresh_token(refresh_token),
            created_at=now,
            expires_at=expires_at,
        ),
    )
    access_token, _claims = runtime.codec.issue(
        subject=user.id, role=user.role, version=user.token_version
    )
    return TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int(runtime.codec.ttl.total_seconds()),
        refresh_expires_at=expires_at,
    )


async def end_all_sessions(session: AsyncSession, *, user: User) -> None:
    """Every access token of the user stops verifying (version bump) and every refresh
    token is revoked. Used by logout-all, password change and deactivation."""
    user.token_version += 1
    await repository.revoke_user_tokens(session, user.id, now=utcnow())
    await session.flush()
