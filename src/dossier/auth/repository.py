"""Every query of refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.models.refresh_token import RefreshToken


async def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)
    await session.flush()


async def get_refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    result = await session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    )
    return result.one_or_none()


async def claim_refresh_token(session: AsyncSession, token_id: uuid.UUID, *, now: datetime) -> bool:
    """Mark a token used; ``False`` when it was already used or revoked. One conditional
    UPDATE, so two concurrent refreshes with one token cannot both succeed."""
    result = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def _revoke(session: AsyncSession, condition: ColumnElement[bool], *, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, *, now: datetime) -> None:
    await _revoke(session, RefreshToken.family_id == family_id, now=now)


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> None:
    await _revoke(session, RefreshToken.user_id == user_id, now=now)


async def delete_expired_tokens(
    session: AsyncSession, *, now: datetime, user_id: uuid.UUID | None = None
) -> int:
    """Delete refresh tokens whose family has passed its absolute lifetime — one user's (at
    login) or everyone's (housekeeping); returns how many. Used, revoked or not, none of them
    can be accepted again, so reuse detection no longer needs them."""
    condition = RefreshToken.expires_at < now
    if user_id is not None:
        condition = and_(RefreshToken.user_id == user_id, condition)
    result = await session.execute(
        delete(RefreshToken).where(condition).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
