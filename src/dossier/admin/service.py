"""The admin dashboard figures, cached briefly: many moderators polling cost one computation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.admin import repository
from dossier.admin.schemas import AdminStats, TaskCounts, UserCounts
from dossier.auth.principal import Principal
from dossier.core.cache import AppCache
from dossier.core.clock import utcnow
from dossier.models.user import Role

STATS_CACHE = "admin-stats"
STATS_TTL_SECONDS = 15.0


async def compute_stats(session: AsyncSession) -> AdminStats:
    by_role = {role.value: 0 for role in Role}
    active = total = 0
    for role, is_active, count in await repository.users_by_role_and_activity(session):
        by_role[role] = by_role.get(role, 0) + count
        total += count
        active += count if is_active else 0
    tasks = await repository.tasks_by_done(session)
    return AdminStats(
        users=UserCounts(total=total, active=active, by_role=by_role),
        tasks=TaskCounts(
            total=sum(tasks.values()), open=tasks.get(False, 0), done=tasks.get(True, 0)
        ),
        documents_by_status=await repository.documents_by_status(session),
        jobs_by_status=await repository.jobs_by_status(session),
        generated_at=utcnow(),
    )


async def get_stats(session: AsyncSession, principal: Principal, *, cache: AppCache) -> AdminStats:
    """Moderators and admins see the same figures, so one cache entry serves them all."""
    del principal  # the route's role check is the whole rule; kept for the service signature

    async def compute() -> dict[str, Any]:
        return (await compute_stats(session)).model_dump(mode="json")

    cached = await cache.get_or_compute(STATS_CACHE, "all", compute, ttl=STATS_TTL_SECONDS)
    return AdminStats.model_validate(cached)


async def invalidate_stats(cache: AppCache) -> None:
    await cache.invalidate(STATS_CACHE)
