"""Every query of the task aggregate. Visibility lives in :func:`readable_by` only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.elements import BindParameter

from dossier.auth.principal import Principal
from dossier.core.pagination import (
    CursorCodec,
    PageParams,
    PageResult,
    Sorting,
    SortOrder,
    paginate,
    paginate_rows,
)
from dossier.core.sql import contains_ignoring_case
from dossier.models.task import Tag, Task, task_tags
from dossier.models.user import User

SORTING = Sorting(
    fields={
        "created_at": Task.created_at,
        "updated_at": Task.updated_at,
        "due_at": Task.due_at,
        "priority": Task.priority,
        "title": Task.title,
    },
    id_column=Task.id,
    default="-created_at",
)


@dataclass(frozen=True, slots=True)
class TaskFilters:
    done: bool | None = None
    tags: tuple[str, ...] = ()
    assignee_id: uuid.UUID | None = None
    priority: int | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str | None = None
    # GET /users/{id}/tasks: tasks that user owns or is assigned.
    involving: uuid.UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "tags": sorted(self.tags),
            "assignee_id": self.assignee_id,
            "priority": self.priority,
            "due_before": self.due_before,
            "due_after": self.due_after,
            "q": self.q,
            "involving": self.involving,
        }


@dataclass(frozen=True, slots=True)
class TaskListQuery:
    """One list request: filters, page, sort, the cursor codec and which list it is."""

    filters: TaskFilters
    params: PageParams
    order: SortOrder
    codec: CursorCodec
    scope: str


def readable_by(principal: Principal, *, viewer: Any = None) -> ColumnElement[bool]:
    """Owner and assignee see a task; moderators and admins see all.

    ``viewer`` stands in for the principal's id in the criterion (a bound parameter, for a
    statement built once and reused with each caller's id)."""
    if principal.is_moderator:
        return true()
    who = principal.user_id if viewer is None else viewer
    return or_(Task.owner_id == who, Task.assignee_id == who)


def _filtered(statement: Select[Any], filters: TaskFilters) -> Select[Any]:
    if filters.done is not None:
        statement = statement.where(Task.done == filters.done)
    if filters.assignee_id is not None:
        statement = statement.where(Task.assignee_id == filters.assignee_id)
    if filters.priority is not None:
        statement = statement.where(Task.priority == filters.priority)
    if filters.due_before is not None:
        statement = statement.where(Task.due_at < filters.due_before)
    if filters.due_after is not None:
        statement = statement.where(Task.due_at >= filters.due_after)
    if filters.involving is not None:
        statement = statement.where(
            or_(Task.owner_id == filters.involving, Task.assignee_id == filters.involving)
        )
    if filters.q:
        statement = statement.where(
            or_(
                contains_ignoring_case(Task.title, filters.q),
                contains_ignoring_case(Task.description, filters.q),
            )
        )
    for name in filters.tags:
        statement = statement.where(
            exists()
            .where(task_tags.c.task_id == Task.id)
            .where(task_tags.c.tag_id == Tag.id)
            .where(Tag.name == name)
            .correlate(Task)
        )
    return statement


def list_statement(principal: Principal, filters: TaskFilters) -> Select[Task]:
    """The visible, filtered tasks (unordered; paginate adds the order)."""
    return _filtered(select(Task).where(readable_by(principal)), filters)


async def list_tasks(
    session: AsyncSession, principal: Principal, *, query: TaskListQuery
) -> PageResult[Task]:
    return await paginate(
        session,
        list_statement(principal, query.filters).options(selectinload(Task.tags)),
        params=query.params,
        sorting=SORTING,
        order=query.order,
        codec=query.codec,
        filters=query.filters.as_dict(),
        scope=query.scope,
    )


_TASK_ID: BindParameter[uuid.UUID] = bindparam("task_id")
_VIEWER_ID: BindParameter[uuid.UUID] = bindparam("viewer_id")
# Built once per shape (moderator or not, locking or not) and reused: composing the statement
# (columns, criteria, loader options) cost about a tenth of a single-task read.
_GET_STATEMENTS: dict[tuple[bool, bool], Select[Task]] = {}


def _get_statement(principal: Principal, *, for_update: bool) -> Select[Task]:
    shape = (principal.is_moderator, for_update)
    statement = _GET_STATEMENTS.get(shape)
    if statement is None:
        # One round trip: the tags come joined (a task has at most 20).
        statement = (
            select(Task)
            .where(Task.id == _TASK_ID, readable_by(principal, viewer=_VIEWER_ID))
            .options(joinedload(Task.tags))
        )
        if for_update:
            statement = statement.with_for_update(of=Task)
        _GET_STATEMENTS[shape] = statement
    return statement


async def get_readable(
    session: AsyncSession, principal: Principal, task_id: uuid.UUID, *, for_update: bool = False
) -> Task | None:
    statement = _get_statement(principal, for_update=for_update)
    params = {"task_id": task_id, "viewer_id": principal.user_id}
    result = await session.scalars(statement, params)
    return result.unique().one_or_none()


async def active_user_exists(session: AsyncSession, user_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(User.id).where(User.id == user_id, User.is_active.is_(True))
    )
    return found is not None


async def user_exists(session: AsyncSession, user_id: uuid.UUID) -> bool:
    return await session.scalar(select(User.id).where(User.id == user_id)) is not None


async def tags_named(session: AsyncSession, names: Sequence[str]) -> list[Tag]:
    """The tags with these names, creating missing ones (safe against concurrent creators)."""
    if not names:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Tag)
        .values([{"id": uuid.uuid4(), "name": name} for name in names])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.scalars(select(Tag).where(Tag.name.in_(names)).order_by(Tag.name))
    return list(result)


async def tag_counts(
    session: AsyncSession, principal: Principal, *, params: PageParams
) -> PageResult[tuple[str, int]]:
    """Tags on the tasks the caller can see, with how many such tasks carry each; most used
    first, then by name (names are unique, so offset pages are stable)."""
    mine = readable_by(principal)
    statement = (
        select(Tag.name, func.count(Task.id))
        .join(task_tags, task_tags.c.tag_id == Tag.id)
        .join(Task, Task.id == task_tags.c.task_id)
        .where(mine)
        .group_by(Tag.name)
        .order_by(func.count(Task.id).desc(), Tag.name)
    )
    result = await paginate_rows(session, statement, params=params)
    return replace(result, items=[(name, int(count)) for name, count in result.items])
