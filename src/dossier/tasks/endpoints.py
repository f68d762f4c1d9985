"""/api/v1/tasks, /api/v1/users/{id}/tasks and /api/v1/tags (HTTP only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request, Response, status

from dossier.auth.dependencies import CurrentPrincipal
from dossier.core.conditional import (
    PRIVATE_NO_CACHE,
    IfMatchHeader,
    IfNoneMatchHeader,
    RequireIfMatch,
    not_modified,
    not_modified_response,
    set_etag,
)
from dossier.core.idempotency import IdempotentRoute
from dossier.core.openapi import problem_responses
from dossier.core.pagination import OffsetPageParamsDep, Page, PageResult, page_response
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.models.task import Task
from dossier.tasks import service
from dossier.tasks.dependencies import TaskListQueryDep
from dossier.tasks.schemas import (
    TagCount,
    TaskCreate,
    TaskRead,
    TaskReplace,
    TaskUpdate,
)

PREFIX = "/api/v1/tasks"
T = TypeVar("T")
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not Modified"}}
_READ = problem_responses(401, 404)
_WRITE = problem_responses(401, 403, 404, 412, 428)
_LIST = problem_responses(400, 401)

router = Router(prefix=PREFIX, tags=["tasks"], route_class=IdempotentRoute, deprecated=True)
other_router = Router(prefix="/api/v1", tags=["tasks"])


def task_response(
    response: Response,
    task: Task,
    convert: Callable[[Task], T],
    *,
    if_none_match: str | None = None,
) -> T | Response:
    """One task with its `ETag`; 304 with no body when the client's copy is current."""
    etag = service.etag(task)
    if not_modified(if_none_match, etag):
        return not_modified_response(etag)
    set_etag(response, etag)
    return convert(task)


def _with_etag(response: Response, task: Task) -> TaskRead:
    set_etag(response, service.etag(task))
    return TaskRead.of(task)


def task_page(
    request: Request, response: Response, result: PageResult[Task], convert: Callable[[Task], T]
) -> Page[T]:
    """A page of tasks in some representation, with `Link` and the caching policy."""
    response.headers["Cache-Control"] = PRIVATE_NO_CACHE
    return page_response(request, response, result, [convert(task) for task in result.items])


@router.get("", response_model=Page[TaskRead], responses=_LIST)
async def list_tasks(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    query: TaskListQueryDep,
) -> Page[TaskRead]:
    """Tasks you own or are assigned (all tasks for moderators), filtered and sorted."""
    result = await service.list_tasks(session, principal, query=query)
    return task_page(request, response, result, TaskRead.of)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
    responses=problem_responses(401, 422),
)
async def create_task(
    body: TaskCreate, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> TaskRead:
    """Create a task you own. Send `Idempotency-Key` to make retries safe."""
    task = await service.create(session, principal, fields=body.model_dump())
    response.headers["Location"] = f"{PREFIX}/{task.id}"
    return _with_etag(response, task)


@router.get("/{task_id}", response_model=TaskRead, responses={**NOT_MODIFIED, **_READ})
async def get_task(
    task_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_none_match: IfNoneMatchHeader = None,
) -> Any:
    task = await service.get(session, principal, task_id)
    return task_response(response, task, TaskRead.of, if_none_match=if_none_match)


@router.put("/{task_id}", response_model=TaskRead, responses=_WRITE)
async def replace_task(
    task_id: uuid.UUID,
    body: TaskReplace,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    require_if_match: RequireIfMatch,
    if_match: IfMatchHeader = None,
) -> TaskRead:
    """Replace every writable field (omitted ones return to their defaults)."""
    task = await service.update(
        session,
        principal,
        task_id,
        fields=body.model_dump(),
        replace=True,
        if_match=if_match,
        require_if_match=require_if_match,
    )
    return _with_etag(response, task)


@router.patch("/{task_id}", response_model=TaskRead, responses=_WRITE)
async def update_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    require_if_match: RequireIfMatch,
    if_match: IfMatchHeader = None,
) -> TaskRead:
    """Change only the fields sent."""
    task = await service.update(
        session,
        principal,
        task_id,
        fields=body.model_dump(exclude_unset=True),
        if_match=if_match,
        require_if_match=require_if_match,
    )
    return _with_etag(response, task)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_task(
    task_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    require_if_match: RequireIfMatch,
    if_match: IfMatchHeader = None,
) -> Response:
    await service.delete(
        session, principal, task_id, if_match=if_match, require_if_match=require_if_match
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{task_id}/complete",
    response_model=TaskRead,
    responses=problem_responses(401, 403, 404, 412, 428),
)
async def complete_task(
    task_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    require_if_match: RequireIfMatch,
    if_match: IfMatchHeader = None,
) -> TaskRead:
    """Mark the task done (owner, assignee or admin). Completing a done task is a no-op."""
    task = await service.complete(
        session, principal, task_id, if_match=if_match, require_if_match=require_if_match
    )
    return _with_etag(response, task)


@other_router.get(
    "/users/{user_id}/tasks",
    response_model=Page[TaskRead],
    responses=problem_responses(400, 401, 404),
)
async def list_user_tasks(
    user_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    query: TaskListQueryDep,
) -> Page[TaskRead]:
    """Tasks the user owns or is assigned, of those you may see."""
    result = await service.list_for_user(session, principal, user_id, query=query)
    return task_page(request, response, result, TaskRead.of)


@other_router.get("/tags", response_model=Page[TagCount], responses=problem_responses(401))
async def list_tags(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    params: OffsetPageParamsDep,
) -> Page[TagCount]:
    """Tags on the tasks you can see, with how many of them carry each; most used first, then
    by name. Paged by `page` and `limit` (with `total`)."""
    result = await service.tag_counts(session, principal, params=params)
    response.headers["Cache-Control"] = PRIVATE_NO_CACHE
    items = [TagCount(name=name, count=count) for name, count in result.items]
    return page_response(request, response, result, items)
