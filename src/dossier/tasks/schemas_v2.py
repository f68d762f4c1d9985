"""The v2 task representation: `status` instead of `done`, tags as objects, `links`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from dossier.core.schemas import drop_null_from_schema
from dossier.models.task import PriorityLabel, Task
from dossier.tasks.schemas import (
    NULLABLE,
    Description,
    TagList,
    Title,
    UtcDatetime,
    reject_nulls,
)

Status = Literal["open", "done"]


class TagRef(BaseModel):
    name: str


class TaskLinks(BaseModel):
    self: str
    complete: str
    owner: str
    assignee: str | None


class TaskReadV2(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    status: Status
    completed_at: datetime | None
    priority: PriorityLabel
    due_at: datetime | None
    tags: list[TagRef]
    owner_id: uuid.UUID
    assignee_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    links: TaskLinks

    @classmethod
    def of(cls, task: Task) -> TaskReadV2:
        base = f"/api/v2/tasks/{task.id}"
        return cls.model_construct(
            id=task.id,
            title=task.title,
            description=task.description,
            status="done" if task.done else "open",
            completed_at=task.completed_at,
            priority=task.priority_label,
            due_at=task.due_at,
            tags=[TagRef.model_construct(name=name) for name in task.tag_names],
            owner_id=task.owner_id,
            assignee_id=task.assignee_id,
            version=task.version,
            created_at=task.created_at,
            updated_at=task.updated_at,
            links=TaskLinks.model_construct(
                self=base,
                complete=f"/api/v1/tasks/{task.id}/complete",
                owner=f"/api/v1/users/{task.owner_id}",
                assignee=f"/api/v1/users/{task.assignee_id}" if task.assignee_id else None,
            ),
        )


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    """The service speaks v1 field names: `status` becomes `done`."""
    if "status" in data:
        data["done"] = data.pop("status") == "done"
    return data


class TaskCreateV2(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    status: Status = "open"
    priority: PriorityLabel = "normal"
    due_at: UtcDatetime | None = None
    assignee_id: uuid.UUID | None = None
    tags: TagList = []

    def fields(self) -> dict[str, Any]:
        return _canonical(self.model_dump())


class TaskUpdateV2(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=drop_null_from_schema(NULLABLE))

    title: Title | None = None
    description: Description | None = None
    status: Status | None = None
    priority: PriorityLabel | None = None
    due_at: UtcDatetime | None = None
    assignee_id: uuid.UUID | None = None
    tags: TagList | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> TaskUpdateV2:
        reject_nulls(self)
        return self

    def fields(self) -> dict[str, Any]:
        return _canonical(self.model_dump(exclude_unset=True))
