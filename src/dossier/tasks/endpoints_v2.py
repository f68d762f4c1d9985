"""/api/v2/tasks: list, get, create, patch — the same service, the v2 representation."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Query, Request, Response, status

from dossier.auth.dependencies import CurrentPrincipal
from dossier.core.conditional import (
    IfMatchHeader,
    IfNoneMatchHeader,
    RequireIfMatch,
    set_etag,
)
from dossier.core.idempotency import IdempotentRoute
from dossier.core.openapi import problem_responses
from dossier.core.pagination import Page
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.models.task import Task
from dossier.tasks import service
from dossier.tasks.dependencies import TaskListQueryDep
from dossier.tasks.endpoints import NOT_MODIFIED, task_page, task_response
from dossier.tasks.schemas_v2 import Status, TaskCreateV2, TaskReadV2, TaskUpdateV2

PREFIX = "/api/v2/tasks"
router = Router(prefix=PREFIX, tags=["tasks v2"], route_class=IdempotentRoute)


def _with_etag(response: Response, task: Task) -> TaskReadV2:
    set_etag(response, service.etag(task))
    return TaskReadV2.of(task)


@router.get("", response_model=Page[TaskReadV2], responses=problem_responses(400, 401))
async def list_tasks_v2(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    query: TaskListQueryDep,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
) -> Page[TaskReadV2]:
    if status_filter is not None:
        query = replace(query, filters=replace(query.filters, done=status_filter == "done"))
    result = await service.list_tasks(session, principal, query=query)
    return task_page(request, response, result, TaskReadV2.of)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskReadV2,
    responses=problem_responses(401, 422),
)
async def create_task_v2(
    body: TaskCreateV2, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> TaskReadV2:
    task = await service.create(session, principal, fields=body.fields())
    response.headers["Location"] = f"{PREFIX}/{task.id}"
    return _with_etag(response, task)


@router.get(
    "/{task_id}",
    response_model=TaskReadV2,
    responses={**NOT_MODIFIED, **problem_responses(401, 404)},
)
async def get_task_v2(
    task_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_none_match: IfNoneMatchHeader = None,
) -> Any:
    task = await service.get(session, principal, task_id)
    return task_response(response, task, TaskReadV2.of, if_none_match=if_none_match)


@router.patch(
    "/{task_id}",
    response_model=TaskReadV2,
    responses=problem_responses(401, 403, 404, 412, 428),
)
async def update_task_v2(
    task_id: uuid.UUID,
    body: TaskUpdateV2,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    require_if_match: RequireIfMatch,
    if_match: IfMatchHeader = None,
) -> TaskReadV2:
    task = await service.update(
        session,
        principal,
        task_id,
        fields=body.fields(),
        if_match=if_match,
        require_if_match=require_if_match,
    )
    return _with_etag(response, task)
