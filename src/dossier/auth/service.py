"""Authentication rules: registration, login, refresh-token rotation, logout, and turning a
presented access token into a principal."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth import repository
from dossier.auth.errors import (
    InvalidAccessToken,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenReused,
    RegistrationClosed,
)
from dossier.auth.principal import Principal
from dossier.auth.runtime import AuthRuntime
from dossier.auth.sessions import TokenPair, end_all_sessions, hash_refresh_token, issue_tokens
from dossier.core.clock import utcnow
from dossier.core.errors import TooManyRequests
from dossier.core.ratelimit import RateLimitPolicy
from dossier.core.security.passwords import verify_against_dummy, verify_password
from dossier.core.security.tokens import AccessClaims, InvalidToken
from dossier.models.user import Role, User
from dossier.users import repository as users_repository
from dossier.users.service import create_user, normalise_email


async def _limit(runtime: AuthRuntime, policy: RateLimitPolicy, key: str) -> None:
    decision = await runtime.limiter.hit(policy, key)
    if not decision.allowed:
        raise TooManyRequests(
            f"Too many attempts; retry in {decision.retry_after} s.", headers=decision.headers()
        )


async def register(
    session: AsyncSession, *, runtime: AuthRuntime, email: str, password: str, display_name: str
) -> User:
    if not runtime.registration_enabled:
        raise RegistrationClosed()
    return await create_user(session, email=email, password=password, display_name=display_name)


async def login(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    email: str,
    password: str,
    client_address: str,
) -> TokenPair:
    """Same answer, and the same Argon2 work, whether the email exists or not."""
    email = normalise_email(email)
    await _limit(runtime, runtime.policies.login_address, client_address)
    await _limit(runtime, runtime.policies.login_account, email)
    user = await users_repository.get_by_email(session, email)
    if user is None:
        await verify_against_dummy(password)
        raise InvalidCredentials()
    valid, upgraded_hash = await verify_password(password, user.password_hash)
    if not valid or not user.is_active:
        raise InvalidCredentials()
    if upgraded_hash is not None:
        user.password_hash = upgraded_hash
    await repository.delete_expired_tokens(session, now=utcnow(), user_id=user.id)
    return await issue_tokens(session, runtime=runtime, user=user)


async def refresh(
    session: AsyncSession, *, runtime: AuthRuntime, refresh_token: str, client_address: str
) -> TokenPair:
    """Rotate: the presented token is used up and the next of its family is issued. A token
    that was already used means it leaked (or a client raced itself): the family ends."""
    await _limit(runtime, runtime.policies.refresh_address, client_address)
    stored = await repository.get_refresh_token_by_hash(session, hash_refresh_token(refresh_token))
    if stored is None:
        raise InvalidRefreshToken()
    await _limit(runtime, runtime.policies.refresh_account, str(stored.user_id))
    now = utcnow()
    if stored.revoked_at is not None or stored.expires_at <= now:
        raise InvalidRefreshToken()
    if stored.used_at is not None or not await repository.claim_refresh_token(
        session, stored.id, now=now
    ):
        await repository.revoke_family(session, stored.family_id, now=now)
        raise RefreshTokenReused()
    user = await users_repository.get_by_id(session, stored.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshToken()
    return await issue_tokens(
        session,
        runtime=runtime,
        user=user,
        family_id=stored.family_id,
        family_expires_at=stored.expires_at,
    )


async def logout(
    session: AsyncSession,
    principal: Principal | None,
    *,
    runtime: AuthRuntime,
    refresh_token: str | None,
) -> None:
    """Revoke the presented refresh token's family and deny-list the caller's access token.
    Unknown or foreign refresh tokens are ignored (RFC 7009: nothing to reveal)."""
    if refresh_token:
        stored = await repository.get_refresh_token_by_hash(
            session, hash_refresh_token(refresh_token)
        )
        if stored is not None and (principal is None or stored.user_id == principal.user_id):
            await repository.revoke_family(session, stored.family_id, now=utcnow())
    await _deny_access_token(runtime, principal)


async def logout_all(session: AsyncSession, principal: Principal, *, runtime: AuthRuntime) -> None:
    user = await users_repository.get_by_id(session, principal.user_id)
    if user is None:
        raise InvalidAccessToken()
    await end_all_sessions(session, user=user)
    await _deny_access_token(runtime, principal)


async def _deny_access_token(runtime: AuthRuntime, principal: Principal | None) -> None:
    if principal is not None and principal.token_id and principal.token_expires_at:
        await runtime.denylist.deny(principal.token_id, expires_at=principal.token_expires_at)


async def authenticate_access_token(
    session: AsyncSession, runtime: AuthRuntime, token: str, *, verified: AccessClaims | None = None
) -> Principal:
    """The principal for an access token; ``verified`` is the token's claims when an earlier
    layer already checked its signature and claims in this request."""
    if verified is not None:
        claims = verified
    else:
        try:
            claims = runtime.codec.verify(token)
        except InvalidToken as exc:
            raise InvalidAccessToken() from exc
    if await runtime.denylist.is_denied(claims.token_id):
        raise InvalidAccessToken()
    user = await runtime.principals.get(session, claims.subject)
    if user is None or not user["is_active"] or user["token_version"] != claims.version:
        raise InvalidAccessToken()
    # The role comes from the user row (cached, invalidated on change), not the token:
    # a demotion takes effect at once.
    return Principal(
        user_id=claims.subject,
        role=Role(user["role"]),
        token_id=claims.token_id,
        token_expires_at=claims.expires_at,
    )
