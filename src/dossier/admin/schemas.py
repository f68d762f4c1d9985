from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class UserCounts(BaseModel):
    total: int
    active: int
    by_role: dict[str, int] = Field(description="Active and inactive users per role.")


class TaskCounts(BaseModel):
    total: int
    open: int
    done: int


class AdminStats(BaseModel):
    users: UserCounts
    tasks: TaskCounts
    documents_by_status: dict[str, int]
    jobs_by_status: dict[str, int]
    generated_at: datetime = Field(description="When these figures were computed (cached).")
