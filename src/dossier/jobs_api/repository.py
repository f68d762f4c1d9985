"""Every query of the jobs API; visibility lives in :func:`readable_by`."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.core.pagination import (
    CursorCodec,
    InvalidCursor,
    PageParams,
    PageResult,
    Sorting,
    SortOrder,
    paginate,
)
from dossier.models.job import Job, JobStatus

JOB_SORTING = Sorting(
    fields={"created_at": Job.created_at}, id_column=Job.id, default="-created_at"
)


def readable_by(principal: Principal) -> ColumnElement[bool]:
    """Users see the jobs they own; moderators and admins see every job."""
    if principal.is_moderator:
        return true()
    return Job.owner_id == principal.user_id


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


async def page_owned(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    order: SortOrder,
    params: PageParams,
    codec: CursorCodec,
) -> PageResult[Job]:
    """The caller's own jobs (even a moderator's list is their own; see the admin list)."""
    statement = select(Job).where(Job.owner_id == principal.user_id, *_filters(status, kind))
    return await paginate(
        session,
        statement,
        params=params,
        sorting=JOB_SORTING,
        order=order,
        codec=codec,
        filters={"status": status, "kind": kind},
        scope=f"jobs:{principal.user_id}",
    )


def _dead_rank() -> ColumnElement[int]:
    return case((Job.status == JobStatus.DEAD.value, 0), else_=1)


def _bound(status: str | None, kind: str | None) -> str:
    canonical = json.dumps({"scope": "admin-jobs", "status": status, "kind": kind}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


async def page_all_dead_first(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    params: PageParams,
    codec: CursorCodec,
) -> PageResult[Job]:
    """Every job: dead letters first, then newest first.

    The order has a computed first key (dead or not), which ``core.pagination`` (one column plus
    id) does not express; this keyset runs over ``(rank, created_at, id)`` with the same signed
    cursor codec, bound to the filters.
    """
    rank = _dead_rank()
    conditions: list[Any] = _filters(status, kind)
    ordering = (rank, Job.created_at.desc(), Job.id.desc())
    if params.page is not None:
        count = select(func.count()).select_from(Job).where(*conditions)
        total = int((await session.execute(count)).scalar_one())
        rows = await session.scalars(
            select(Job)
            .where(*conditions)
            .order_by(*ordering)
            .offset((params.page - 1) * params.limit)
            .limit(params.limit)
        )
        return PageResult(items=list(rows), limit=params.limit, page=params.page, total=total)
    bound = _bound(status, kind)
    if params.cursor is not None:
        data = codec.decode(params.cursor)
        if data.get("b") != bound:
            raise InvalidCursor("The cursor belongs to other filters.")
        try:
            after_rank = int(data["r"])
            after_created = datetime.fromisoformat(data["k"])
            after_id = uuid.UUID(data["i"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidCursor() from exc
        conditions.append(
            or_(
                rank > after_rank,
                and_(
                    rank == after_rank,
                    or_(
                        Job.created_at < after_created,
                        and_(Job.created_at == after_created, Job.id < after_id),
                    ),
                ),
            )
        )
    rows_list = list(
        await session.scalars(
            select(Job).where(*conditions).order_by(*ordering).limit(params.limit + 1)
        )
    )
    next_cursor = None
    if len(rows_list) > params.limit:
        rows_list = rows_list[: params.limit]
        last = rows_list[-1]
        next_cursor = codec.encode(
            {
                "b": bound,
                "r": 0 if last.status == JobStatus.DEAD.value else 1,
                "k": last.created_at.isoformat(),
                "i": str(last.id),
            }
        )
    return PageResult(items=rows_list, limit=params.limit, next_cursor=next_cursor)
