"""Request and response bodies of /api/v1/tasks (v2 lives in schemas_v2.py)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from dossier.core.schemas import (
    NO_CONTROL_CHARACTERS,
    NOT_BLANK,
    drop_null_from_schema,
    no_unix_timestamp,
)
from dossier.models.task import PriorityLabel, Task

MAX_TAGS = 20

TagName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=50,
        pattern=NOT_BLANK,
    ),
]


def _unique(tags: list[str]) -> list[str]:
    return sorted(set(tags))


TagList = Annotated[
    list[TagName],
    Field(max_length=MAX_TAGS, description="Tag names; lower-cased, duplicates dropped."),
    AfterValidator(_unique),
]
UtcDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(no_unix_timestamp),
    AfterValidator(lambda value: value.astimezone(UTC)),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK),
]
Description = Annotated[str, StringConstraints(max_length=10_000, pattern=NO_CONTROL_CHARACTERS)]


NULLABLE = frozenset({"due_at", "assignee_id"})


def reject_nulls(patch: BaseModel) -> None:
    """In a PATCH, only the nullable fields may be sent as null."""
    for name in patch.model_fields_set - NULLABLE:
        if getattr(patch, name) is None:
            raise ValueError(f"{name} cannot be null")


class TaskSort(enum.StrEnum):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    DUE_AT = "due_at"
    DUE_AT_DESC = "-due_at"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"
    TITLE = "title"
    TITLE_DESC = "-title"


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    done: bool = False
    priority: PriorityLabel = "normal"
    due_at: UtcDatetime | None = None
    assignee_id: uuid.UUID | None = None
    tags: TagList = []


class TaskReplace(TaskCreate):
    """PUT: every writable field; omitted ones take their defaults."""


class TaskUpdate(BaseModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=drop_null_from_schema(NULLABLE))

    title: Title | None = None
    description: Description | None = None
    done: bool | None = None
    priority: PriorityLabel | None = None
    due_at: UtcDatetime | None = None
    assignee_id: uuid.UUID | None = None
    tags: TagList | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> TaskUpdate:
        reject_nulls(self)
        return self


class TaskRead(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    done: bool
    completed_at: datetime | None
    priority: PriorityLabel
    due_at: datetime | None
    tags: list[str]
    owner_id: uuid.UUID
    assignee_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskRead:
        return cls.model_construct(
            id=task.id,
            title=task.title,
            description=task.description,
            done=task.done,
            completed_at=task.completed_at,
            priority=task.priority_label,
            due_at=task.due_at,
            tags=task.tag_names,
            owner_id=task.owner_id,
            assignee_id=task.assignee_id,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class TagCount(BaseModel):
    name: str
    count: int = Field(description="Tasks you can see that carry this tag.")
