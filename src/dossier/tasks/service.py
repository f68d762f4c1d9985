"""The rules of tasks: who may see, change, delete and complete them; tags; versions.

Both API versions call these functions with the same canonical fields (``title``,
``description``, ``done``, ``priority`` label, ``due_at``, ``assignee_id``, ``tags``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dossier.auth.principal import Principal
from dossier.core.clock import utcnow
from dossier.core.conditional import check_if_match, etag_for
from dossier.core.pagination import PageParams, PageResult
from dossier.models.task import Priority, Task
from dossier.tasks import repository
from dossier.tasks.errors import (
    InvalidAssignee,
    TaskChanged,
    TaskCompleteForbidden,
    TaskEditForbidden,
    TaskNotFound,
    UserNotFound,
)
from dossier.tasks.repository import TaskListQuery

WRITABLE = frozenset({"title", "description", "done", "priority", "due_at", "assignee_id", "tags"})
DEFAULTS: Mapping[str, Any] = {
    "description": "",
    "done": False,
    "priority": "normal",
    "due_at": None,
    "assignee_id": None,
    "tags": [],
}


def etag(task: Task) -> str:
    return etag_for(task.id, task.version)


def _may_edit(principal: Principal, task: Task) -> bool:
    return principal.is_admin or task.owner_id == principal.user_id


def _may_complete(principal: Principal, task: Task) -> bool:
    return _may_edit(principal, task) or task.assignee_id == principal.user_id


async def _apply(session: AsyncSession, task: Task, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - WRITABLE
    if unknown:  # schemas forbid them; this guards future callers
        raise ValueError(f"not writable: {sorted(unknown)}")
    if "assignee_id" in fields:
        assignee_id = fields["assignee_id"]
        if (
            assignee_id is not None
            and assignee_id != task.assignee_id
            and not await repository.active_user_exists(session, assignee_id)
        ):
            raise InvalidAssignee()
        task.assignee_id = assignee_id
    for name in ("title", "description", "due_at"):
        if name in fields:
            setattr(task, name, fields[name])
    if "priority" in fields:
        task.priority = Priority.from_label(fields["priority"]).value
    if "done" in fields:
        _set_done(task, bool(fields["done"]))
    if "tags" in fields:
        task.tags = await repository.tags_named(session, list(fields["tags"]))


def _set_done(task: Task, done: bool) -> None:
    if done and not task.done:
        task.completed_at = utcnow()
    elif not done:
        task.completed_at = None
    task.done = done


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:  # a concurrent write bumped the version first
        raise TaskChanged() from exc


async def create(session: AsyncSession, principal: Principal, *, fields: Mapping[str, Any]) -> Task:
    task = Task(owner_id=principal.user_id, tags=[])
    await _apply(session, task, {**DEFAULTS, **fields})
    session.add(task)
    await session.flush()
    return task


async def get(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> Task:
    task = await repository.get_readable(session, principal, task_id)
    if task is None:
        raise TaskNotFound()
    return task


async def _writable(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    *,
    if_match: str | None,
    require_if_match: bool,
    complete: bool = False,
) -> Task:
    task = await repository.get_readable(session, principal, task_id, for_update=True)
    if task is None:
        raise TaskNotFound()
    allowed = _may_complete(principal, task) if complete else _may_edit(principal, task)
    if not allowed:
        raise TaskCompleteForbidden() if complete else TaskEditForbidden()
    check_if_match(if_match, etag(task), required=require_if_match)
    return task


async def update(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    *,
    fields: Mapping[str, Any],
    replace: bool = False,
    if_match: str | None = None,
    require_if_match: bool = False,
) -> Task:
    """PATCH (only ``fields`` change) or PUT (``replace``: omitted fields take defaults)."""
    task = await _writable(
        session, principal, task_id, if_match=if_match, require_if_match=require_if_match
    )
    await _apply(session, task, {**DEFAULTS, **fields} if replace else fields)
    # Always a row update, so the version moves even when only tags changed.
    task.updated_at = utcnow()
    await _flush(session)
    return task


async def complete(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    *,
    if_match: str | None = None,
    require_if_match: bool = False,
) -> Task:
    """Mark done. Idempotent: completing a done task changes nothing."""
    task = await _writable(
        session,
        principal,
        task_id,
        if_match=if_match,
        require_if_match=require_if_match,
        complete=True,
    )
    if not task.done:
        _set_done(task, True)
        task.updated_at = utcnow()
        await _flush(session)
    return task


async def delete(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    *,
    if_match: str | None = None,
    require_if_match: bool = False,
) -> None:
    task = await _writable(
        session, principal, task_id, if_match=if_match, require_if_match=require_if_match
    )
    await session.delete(task)
    await _flush(session)


async def list_tasks(
    session: AsyncSession, principal: Principal, *, query: TaskListQuery
) -> PageResult[Task]:
    return await repository.list_tasks(session, principal, query=query)


async def list_for_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, *, query: TaskListQuery
) -> PageResult[Task]:
    """Tasks ``user_id`` owns or is assigned, of those the caller may see."""
    if user_id != principal.user_id and not await repository.user_exists(session, user_id):
        raise UserNotFound()
    involving = replace(query, filters=replace(query.filters, involving=user_id))
    return await repository.list_tasks(session, principal, query=involving)


async def tag_counts(
    session: AsyncSession, principal: Principal, *, params: PageParams
) -> PageResult[tuple[str, int]]:
    return await repository.tag_counts(session, principal, params=params)
