"""Job representations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dossier.models.job import JobStatus

JobStatusName = Literal["queued", "running", "succeeded", "failed", "dead", "cancelled"]
JobSort = Literal["created_at", "-created_at"]


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    status: JobStatusName
    priority: int = Field(description="Lower runs first.")
    attempts: int
    max_attempts: int
    progress: int = Field(ge=0, le=100, description="Percent done, 0 to 100.")
    progress_message: str | None
    result: dict[str, Any] | None
    last_error: str | None
    cancel_requested: bool
    owner_id: uuid.UUID | None
    run_at: datetime = Field(description="When the job is (or was) due.")
    created_at: datetime
    started_at: datetime | None = Field(description="When the latest attempt started.")
    finished_at: datetime | None
    updated_at: datetime

    @property
    def is_terminal(self) -> bool:
        return JobStatus(self.status).is_terminal
