"""What task routes ask for: list filters and sort."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator

from dossier.core.pagination import CursorCodecDep, PageParamsDep
from dossier.core.schemas import no_unix_timestamp
from dossier.models.task import Priority, PriorityLabel
from dossier.tasks.repository import SORTING, TaskFilters, TaskListQuery
from dossier.tasks.schemas import MAX_TAGS, TaskSort

# RFC 3339 text; a time without offset is read as UTC (below). Not a number (Unix time).
QueryDatetime = Annotated[datetime, BeforeValidator(no_unix_timestamp)]


async def task_filters(
    done: Annotated[
        bool | None, Query(description="Only done (true) or open (false) tasks.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        Query(
            max_length=MAX_TAGS,
            description="Repeatable; a task must carry every tag given.",
        ),
    ] = None,
    assignee_id: Annotated[uuid.UUID | None, Query()] = None,
    priority: Annotated[PriorityLabel | None, Query()] = None,
    due_before: Annotated[QueryDatetime | None, Query(description="Due strictly before.")] = None,
    due_after: Annotated[QueryDatetime | None, Query(description="Due at or after.")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text in the title or description."),
    ] = None,
) -> TaskFilters:
    tags = tuple(sorted({t.strip().lower() for t in tag or () if t.strip()}))
    return TaskFilters(
        done=done,
        tags=tags,
        assignee_id=assignee_id,
        priority=Priority.from_label(priority).value if priority else None,
        due_before=_aware(due_before),
        due_after=_aware(due_after),
        q=q,
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # a time without offset is read as UTC
    return value


TaskFiltersDep = Annotated[TaskFilters, Depends(task_filters)]
SortQuery = Annotated[
    TaskSort, Query(description="Field to sort by, `-` for descending; `id` breaks ties.")
]


async def task_list_query(
    request: Request,
    params: PageParamsDep,
    codec: CursorCodecDep,
    filters: TaskFiltersDep,
    sort: SortQuery = TaskSort.CREATED_AT_DESC,
) -> TaskListQuery:
    return TaskListQuery(
        filters=filters,
        params=params,
        order=SORTING.parse(sort.value),
        codec=codec,
        scope=scope_of(request),
    )


TaskListQueryDep = Annotated[TaskListQuery, Depends(task_list_query)]


def scope_of(request: Request) -> str:
    """The list a cursor belongs to: its route path (a cursor of one list fails on another)."""
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))
