"""Every query of users. Who may see whom is decided in one place: :func:`readable_by`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.core.pagination import CursorCodec, PageParams, PageResult, Sorting, paginate
from dossier.core.sql import starts_with
from dossier.models.user import Role, User
from dossier.users.errors import EmailTaken


def readable_by(principal: Principal) -> Select[User]:
    """Moderators and admins see every user; a user sees only themself."""
    statement = select(User)
    if not principal.is_moderator:
        statement = statement.where(User.id == principal.user_id)
    return statement


async def get_readable(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> User | None:
    result = await session.scalars(readable_by(principal).where(User.id == user_id))
    return result.one_or_none()


async def get_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.scalars(select(User).where(User.email == email))
    return result.one_or_none()


async def email_exists(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == email))) is not None


USER_SORTING = Sorting(
    fields={"created_at": User.created_at, "email": User.email},
    id_column=User.id,
    default="created_at",
)


def email_starts_with(prefix: str, dialect: str) -> ColumnElement[bool]:
    """Emails (stored lower-cased) that start with ``prefix`` (lower-cased by the caller), as a
    range an index serves: ``prefix <= email < prefix-with-its-last-character-plus-one``,
    compared byte by byte (UTF-8 byte order is code point order, so the range is exactly the
    emails with that prefix). SQLite's default collation compares bytes, so its unique email
    index serves the range (its ``LIKE`` ignores case and could not). On PostgreSQL the
    ``text_pattern_ops`` index of migration 0006 does, through its byte-wise operators
    ``~>=~``/``~<~`` — also in a generic plan of a prepared statement, where ``LIKE`` with a
    bound pattern could not use it."""
    if not prefix:
        return true()
    last = ord(prefix[-1])
    following = last + 1 if last + 1 != 0xD800 else 0xE000  # skip the surrogate block
    if following > 0x10FFFF:  # no character follows the last one: match with LIKE
        return starts_with(User.email, prefix)
    upper = prefix[:-1] + chr(following)
    if dialect == "postgresql":
        at_least = User.email.op("~>=~", is_comparison=True)(prefix)
        below = User.email.op("~<~", is_comparison=True)(upper)
        return and_(at_least, below)
    return and_(User.email >= prefix, User.email < upper)


async def list_readable(
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
    statement = readable_by(principal)
    if role is not None:
        statement = statement.where(User.role == role.value)
    if is_active is not None:
        statement = statement.where(User.is_active.is_(is_active))
    if email_prefix:
        dialect = session.get_bind().dialect.name
        statement = statement.where(email_starts_with(email_prefix, dialect))
    return await paginate(
        session,
        statement,
        params=params,
        sorting=USER_SORTING,
        order=USER_SORTING.parse(sort),
        codec=codec,
        filters={"role": role, "is_active": is_active, "email_prefix": email_prefix},
        # Moderators and plain users see different lists: a cursor is bound to its viewer's.
        scope=f"users:{'all' if principal.is_moderator else principal.user_id}",
    )


async def other_active_admins(session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many active admins there are besides ``user_id``. The rows are locked on
    PostgreSQL (SQLite writers are serialised already), so two admins demoting each other
    at once cannot both succeed."""
    ids = await session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != user_id)
        .with_for_update()
    )
    return len(list(ids))


@asynccontextmanager
async def _unique_email() -> AsyncIterator[None]:
    """Another request took the email between the service's check and this flush: the unique
    index refuses it, and the caller gets the same answer as when the check saw it."""
    try:
        yield
    except IntegrityError as exc:
        # PostgreSQL names the constraint, SQLite the column.
        message = str(exc.orig)
        if "uq_users_email" in message or "users.email" in message:
            raise EmailTaken() from exc
        raise


async def add(session: AsyncSession, user: User) -> None:
    """Raises ``EmailTaken`` when another row holds the email (the unique index decides)."""
    session.add(user)
    async with _unique_email():
        await session.flush()


async def set_email(session: AsyncSession, user: User, email: str) -> None:
    """Raises ``EmailTaken`` when another row holds the email (the unique index decides)."""
    user.email = email
    async with _unique_email():
        await session.flush()


async def delete_user(session: AsyncSession, user: User) -> None:
    await session.delete(user)
    await session.flush()
