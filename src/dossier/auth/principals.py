"""The principal lookup on the hot path, through the application cache.

Every authenticated request needs three facts about the token's user: the role, whether the
account is active, and its token version (bumped by logout-all, password changes and
deactivation). They are read through the application cache for ``DOSSIER_PRINCIPAL_CACHE_SECONDS``
instead of from the database on every request.

Changes take effect at once: a flush that changes a user's role, active flag or token version,
or deletes the user, records the id in the session; the unit of work drops those entries right
after its commit and before the response is sent (in this process's memory cache, or in Redis
for every replica). A request racing with such a commit can put the old row back for at most
the TTL; keep the TTL short.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from dossier.core.cache import AppCache
from dossier.models.user import User
from dossier.users import repository as users_repository

CACHE_NAME = "principal"
_CHANGED = "dossier.principals_changed"
_WATCHED = ("role", "is_active", "token_version")


class PrincipalRow(TypedDict):
    role: str
    is_active: bool
    token_version: int


class PrincipalLookup:
    """``get(session, user_id)`` → the user's principal facts, or None when there is no user."""

    def __init__(self, cache: AppCache | None, ttl_seconds: float) -> None:
        self._cache = cache if ttl_seconds > 0 else None
        self._ttl = ttl_seconds

    async def get(self, session: AsyncSession, user_id: uuid.UUID) -> PrincipalRow | None:
        async def load() -> PrincipalRow | None:
            user = await users_repository.get_by_id(session, user_id)
            if user is None:
                return None
            return PrincipalRow(
                role=user.role, is_active=user.is_active, token_version=user.token_version
            )

        if self._cache is None:
            return await load()
        return await self._cache.get_or_compute(CACHE_NAME, str(user_id), load, ttl=self._ttl)

    async def after_commit(self, info: dict[str, Any]) -> None:
        """Drop the entries of users whose principal facts the committed transaction changed."""
        changed: set[uuid.UUID] | None = info.pop(_CHANGED, None)
        if changed and self._cache is not None:
            for user_id in changed:
                await self._cache.invalidate(CACHE_NAME, str(user_id))


CommitHook = Callable[[dict[str, Any]], Awaitable[None]]


@event.listens_for(Session, "after_flush")
def _record_changed_principals(session: Session, _context: UOWTransaction) -> None:
    # After a flush the session still shows what was flushed, with the attribute history.
    changed: set[uuid.UUID] = set()
    for instance in session.deleted:
        if isinstance(instance, User):
            changed.add(instance.id)
    for instance in session.dirty:
        if isinstance(instance, User):
            state = inspect(instance)
            if any(state.attrs[name].history.has_changes() for name in _WATCHED):
                changed.add(instance.id)
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)


@event.listens_for(Session, "after_rollback")
def _forget_changed_principals(session: Session) -> None:
    session.info.pop(_CHANGED, None)
