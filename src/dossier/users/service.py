"""Rules about users: registration, profile, password, administration.

Only admins change roles or deactivate; nobody raises their own role; the last active admin
can be neither demoted, deactivated nor deleted. Deactivation and a password change end the
user's sessions at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.auth.runtime import AuthRuntime
from dossier.auth.sessions import TokenPair, end_all_sessions, issue_tokens
from dossier.core.conditional import check_if_match, etag_for
from dossier.core.errors import Forbidden, TooManyRequests
from dossier.core.pagination import CursorCodec, PageParams, PageResult
from dossier.core.security.passwords import hash_password, verify_password
from dossier.models.user import Role, User
from dossier.users import repository
from dossier.users.errors import (
    CannotRaiseOwnRole,
    CurrentPasswordIncorrect,
    EmailChangeDisabled,
    EmailTaken,
    LastAdmin,
    UserNotFound,
)


def normalise_email(email: str) -> str:
    """Emails are stored trimmed and lower-cased, so uniqueness ignores case everywhere."""
    return email.strip().lower()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.USER,
) -> User:
    email = normalise_email(email)
    if await repository.email_exists(session, email):
        raise EmailTaken()
    user = User(
        email=email,
        display_name=display_name,
        role=role.value,
        password_hash=await hash_password(password),
    )
    await repository.add(session, user)
    return user


def user_etag(user: User) -> str:
    """A strong ETag: ``updated_at`` (microseconds) changes with every write of the row."""
    return etag_for(user.id, int(user.updated_at.timestamp() * 1_000_000))


async def get_user(session: AsyncSession, principal: Principal, *, user_id: uuid.UUID) -> User:
    user = await repository.get_readable(session, principal, user_id)
    if user is None:
        raise UserNotFound()
    return user


async def list_users(
    session: AsyncSession,
    principal: Principal,
    *,
    role: Role | None,
    is_active: bool | None,
    email_prefix: str | None,
    params: PageParams,
    sort: str | None,
    codec: CursorCodec,
) -> PageResult[User]:
    return await repository.list_readable(
        session,
        principal,
        role=role,
        is_active=is_active,
        email_prefix=normalise_email(email_prefix) if email_prefix else None,
        params=params,
        sort=sort,
        codec=codec,
    )


async def update_me(
    session: AsyncSession,
    principal: Principal,
    *,
    changes: dict[str, Any],
    if_match: str | None = None,
    if_match_required: bool = False,
) -> User:
    user = await get_user(session, principal, user_id=principal.user_id)
    check_if_match(if_match, user_etag(user), required=if_match_required)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    await session.flush()
    return user


async def _confirm_password(user: User, password: str, *, runtime: AuthRuntime) -> None:
    """A sensitive change needs the current password, tried under the login limit per account."""
    decision = await runtime.limiter.hit(runtime.policies.login_account, user.email)
    if not decision.allowed:
        raise TooManyRequests(headers=decision.headers())
    valid, _ = await verify_password(password, user.password_hash)
    if not valid:
        raise CurrentPasswordIncorrect()


async def change_password(
    session: AsyncSession,
    principal: Principal,
    *,
    runtime: AuthRuntime,
    current_password: str,
    new_password: str,
) -> TokenPair:
    """Set a new password, end every session of the user, and open a new one for the caller."""
    user = await get_user(session, principal, user_id=principal.user_id)
    await _confirm_password(user, current_password, runtime=runtime)
    user.password_hash = await hash_password(new_password)
    await end_all_sessions(session, user=user)
    return await issue_tokens(session, runtime=runtime, user=user)


async def change_email(
    session: AsyncSession,
    principal: Principal,
    *,
    runtime: AuthRuntime,
    email: str,
    current_password: str,
) -> User:
    """Change the caller's login email, confirmed by the current password. Sessions stay open
    (the email is not a credential). Nothing is sent to either address: there is no mailer."""
    if not runtime.email_change_enabled:
        raise EmailChangeDisabled()
    user = await get_user(session, principal, user_id=principal.user_id)
    await _confirm_password(user, current_password, runtime=runtime)
    email = normalise_email(email)
    if email != user.email:
        if await repository.email_exists(session, email):
            raise EmailTaken()
        await repository.set_email(session, user, email)
    return user


async def update_user(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None = None,
    if_match_required: bool = False,
) -> User:
    if not principal.is_admin:
        raise Forbidden("Only administrators change other users.")
    user = await get_user(session, principal, user_id=user_id)
    check_if_match(if_match, user_etag(user), required=if_match_required)
    new_role: Role | None = changes.get("role")
    deactivate = changes.get("is_active") is False
    raising = new_role is not None and new_role.rank > Role(user.role).rank
    if raising and user.id == principal.user_id:
        raise CannotRaiseOwnRole()
    loses_admin = (new_role is not None and new_role is not Role.ADMIN) or deactivate
    if user.role == Role.ADMIN.value and user.is_active and loses_admin:
        await _ensure_not_last_admin(session, user)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if new_role is not None:
        user.role = new_role.value
    if "is_active" in changes:
        was_active = user.is_active
        user.is_active = bool(changes["is_active"])
        if was_active and not user.is_active:
            await end_all_sessions(session, user=user)
    await session.flush()
    return user


async def delete_user(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: uuid.UUID,
    if_match: str | None = None,
    if_match_required: bool = False,
) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators delete users.")
    user = await get_user(session, principal, user_id=user_id)
    check_if_match(if_match, user_etag(user), required=if_match_required)
    if user.role == Role.ADMIN.value and user.is_active:
        await _ensure_not_last_admin(session, user)
    await repository.delete_user(session, user)


async def _ensure_not_last_admin(session: AsyncSession, user: User) -> None:
    if await repository.other_active_admins(session, user.id) == 0:
        raise LastAdmin()
