"""Authentication rules: turning a presented token into a principal."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.core.errors import NotAuthenticated
from dossier.core.security.tokens import AccessTokenCodec, InvalidToken
from dossier.models.user import Role, User


async def authenticate_access_token(
    session: AsyncSession, codec: AccessTokenCodec, token: str
) -> Principal:
    try:
        claims = codec.verify(token)
    except InvalidToken as exc:
        raise NotAuthenticated(
            "The access token is invalid or expired.", error="invalid_token"
        ) from exc
    user = await session.get(User, claims.subject)
    if user is None or not user.is_active:
        raise NotAuthenticated("The access token is invalid or expired.", error="invalid_token")
    # The role comes from the database, not the token: a demotion takes effect at once.
    return Principal(user_id=user.id, role=Role(user.role), token_id=claims.token_id)
