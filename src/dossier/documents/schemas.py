"""Request and response bodies of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentStatusName = Literal["uploaded", "processing", "ready", "failed"]
DocumentTypeName = Literal["pdf", "text", "markdown", "html", "docx"]


class JobSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    status: str
    progress: int
    last_error: str | None
    finished_at: datetime | None


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    filename: str = Field(description="The uploaded file's name, made safe.")
    type: DocumentTypeName = Field(
        validation_alias="doc_type", description="Detected from the content."
    )
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatusName
    failure_reason: str | None = Field(description="Why ingestion failed (status `failed`).")
    page_count: int | None = Field(description="Pages (PDF) once ingested.")
    chunk_count: int | None = Field(description="Search chunks once ingested.")
    text_chars: int | None = Field(description="Characters of extracted text.")
    warnings: list[str] = Field(description="Problems met while extracting text.")
    latest_job_id: uuid.UUID | None = Field(description="The last ingestion job.")
    latest_job: JobSummary | None = Field(
        default=None, description="The last ingestion job's state (single-document reads)."
    )
    ingested_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DocumentText(BaseModel):
    document_id: uuid.UUID
    page_count: int | None
    text: str


class IngestAccepted(BaseModel):
    job_id: uuid.UUID
    status: str = Field(description="The job's status (`queued`, or `running` if already taken).")
