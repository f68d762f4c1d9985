"""Every query of the jobs API; visibility lives in :func:`readable_by`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.jobs_api.cursor import JobCursor
from dossier.models.job import Job, JobStatus


def readable_by(principal: Principal) -> ColumnElement[bool]:
    """Users see the jobs they own; moderators and admins see every job."""
    if principal.is_moderator:
        return true()
    return Job.owner_id == principal.user_id


def _dead_rank() -> ColumnElement[int]:
    return case((Job.status == JobStatus.DEAD.value, 0), else_=1)


async def get_readable(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID
) -> Job | None:
    statement = select(Job).where(Job.id == job_id, readable_by(principal))
    return (await session.scalars(statement)).one_or_none()


async def get_by_id(session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id, populate_existing=True)


def _filters(status: str | None, kind: str | None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if status is not None:
        filters.append(Job.status == status)
    if kind is not None:
        filters.append(Job.kind == kind)
    return filters


async def list_owned(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    newest_first: bool,
    after: JobCursor | None,
    limit: int,
) -> Sequence[Job]:
    """The caller's own jobs, keyset-paginated over (created_at, id)."""
    conditions: list[Any] = [Job.owner_id == principal.user_id, *_filters(status, kind)]
    if after is not None:
        if newest_first:
            conditions.append(
                or_(
                    Job.created_at < after.created_at,
                    and_(Job.created_at == after.created_at, Job.id < after.id),
                )
            )
        else:
            conditions.append(
                or_(
                    Job.created_at > after.created_at,
                    and_(Job.created_at == after.created_at, Job.id > after.id),
                )
            )
    order = (Job.created_at.desc(), Job.id.desc()) if newest_first else (Job.created_at, Job.id)
    statement = select(Job).where(*conditions).order_by(*order).limit(limit)
    return (await session.scalars(statement)).all()


async def list_all_dead_first(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    after: JobCursor | None,
    limit: int,
) -> Sequence[Job]:
    """Every job: dead letters first, then newest first; keyset over (rank, created_at, id)."""
    rank = _dead_rank()
    conditions: list[Any] = _filters(status, kind)
    if after is not None:
        conditions.append(
            or_(
                rank > after.rank,
                and_(
                    rank == after.rank,
                    or_(
                        Job.created_at < after.created_at,
                        and_(Job.created_at == after.created_at, Job.id < after.id),
                    ),
                ),
            )
        )
    statement = (
        select(Job)
        .where(*conditions)
        .order_by(rank, Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


def dead_rank_of(job: Job) -> int:
    return 0 if job.status == JobStatus.DEAD.value else 1
