"""Aggregates for the admin dashboard: each a single GROUP BY, computed by the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.models.document import Document
from dossier.models.job import Job
from dossier.models.task import Task
from dossier.models.user import User


async def users_by_role_and_activity(session: AsyncSession) -> list[tuple[str, bool, int]]:
    rows = await session.execute(
        select(User.role, User.is_active, func.count()).group_by(User.role, User.is_active)
    )
    return [(role, bool(active), int(count)) for role, active, count in rows.all()]


async def tasks_by_done(session: AsyncSession) -> dict[bool, int]:
    rows = await session.execute(select(Task.done, func.count()).group_by(Task.done))
    return {bool(done): int(count) for done, count in rows.all()}


async def documents_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Document.status, func.count()).group_by(Document.status))
    return {str(status): int(count) for status, count in rows.all()}


async def jobs_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {str(status): int(count) for status, count in rows.all()}
