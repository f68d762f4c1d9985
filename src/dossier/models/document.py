"""The document aggregate: an uploaded file, its derived outputs and its search chunks."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dossier.db.base import Base, TimestampMixin, new_id, unmanaged


class DocumentStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class DocumentType(enum.StrEnum):
    PDF = "pdf"
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    DOCX = "docx"


class Document(TimestampMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "status IN ('uploaded', 'processing', 'ready', 'failed')", name="status_valid"
        ),
        CheckConstraint(
            "doc_type IN ('pdf', 'text', 'markdown', 'html', 'docx')", name="doc_type_valid"
        ),
        # Lists: own documents newest first (keyset on created_at, id); duplicate check.
        Index("ix_documents_owner_id_created_at_id", "owner_id", "created_at", "id"),
        Index("ix_documents_owner_id_sha256", "owner_id", "sha256"),
        Index("ix_documents_created_at_id", "created_at", "id"),
        Index("ix_documents_status", "status"),
        Index("ix_documents_doc_type", "doc_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    doc_type: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.UPLOADED.value)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Derived outputs of the last successful ingestion.
    text_key: Mapped[str | None] = mapped_column(String(255), default=None)
    text_chars: Mapped[int | None] = mapped_column(Integer, default=None)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    chunk_count: Mapped[int | None] = mapped_column(Integer, default=None)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ingested_at: Mapped[datetime | None] = mapped_column(default=None)
    latest_job_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # Bumped on every change: the ETag of the document's representation.
    version: Mapped[int] = mapped_column(Integer, default=1)

    def __repr__(self) -> str:
        return f"Document(id={self.id!s}, status={self.status})"


class DocumentChunk(Base):
    """A piece of a document's text; the unit the full-text index matches and ranks.

    The index itself is not in this metadata: SQLite keeps an FTS5 table
    (``document_chunks_fts``, external content, kept in step by triggers) and PostgreSQL a
    generated ``search_vector`` column with a GIN index, both created by the migration.
    """

    __tablename__ = "document_chunks"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    # An integer key: FTS5's rowid points at it.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    text: Mapped[str] = mapped_column(Text)


# Schema objects the migration creates outside the ORM metadata (see DocumentChunk).
unmanaged(
    "document_chunks_fts",
    "document_chunks_fts_data",
    "document_chunks_fts_idx",
    "document_chunks_fts_docsize",
    "document_chunks_fts_config",
    "search_vector",
    "ix_document_chunks_search_vector",
)
