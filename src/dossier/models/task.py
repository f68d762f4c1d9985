"""The task aggregate: tasks, their tags and the link between them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.db.base import Base, TimestampMixin, new_id, unmanaged

PriorityLabel = Literal["low", "normal", "high", "urgent"]


class Priority(enum.IntEnum):
    """Stored as a small integer so that sorting by priority is an index scan."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3

    @property
    def label(self) -> PriorityLabel:
        return _LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> Priority:
        return cls[label.upper()]


_LABELS: dict[Priority, PriorityLabel] = {
    Priority.LOW: "low",
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.URGENT: "urgent",
}


task_tags = Table(
    "task_tags",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "tag_id", "task_id"),
)


class Tag(Base):
    """A tag name, shared by every task that carries it (names are lower case)."""

    __tablename__ = "tags"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 0 AND 3", name="priority_valid"),
        # Visibility (owner or assignee) with the default sort.
        Index(None, "owner_id", "created_at", "id"),
        Index(None, "assignee_id", "created_at", "id"),
        # Every sort offered, with the id tie-breaker (keyset pages are index range scans).
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "due_at", "id"),
        Index(None, "priority", "id"),
        Index(None, "title", "id"),
        # Filters that are commonly combined with a due date.
        Index(None, "done", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(SmallInteger, default=Priority.NORMAL.value)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Bumped by every write (SQLAlchemy adds `WHERE version = …`): the ETag and the guard
    # against lost updates.
    version: Mapped[int] = mapped_column(default=1)

    tags: Mapped[list[Tag]] = relationship(secondary=task_tags, lazy="raise", order_by=Tag.name)

    __mapper_args__ = {"version_id_col": version}

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @property
    def priority_label(self) -> PriorityLabel:
        return Priority(self.priority).label


# PostgreSQL only, made by migration 0006: pg_trgm GIN indexes on lower(title) and
# lower(description) for the `q` filter.
unmanaged("ix_tasks_title_trgm", "ix_tasks_description_trgm")
