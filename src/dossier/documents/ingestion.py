"""Ingestion: extract → chunk → index, as one service function the job handler and CLI call.

Each step is its own short unit of work, so a long extraction never holds a database lock:
mark ``processing`` → fetch the blob → extract and chunk in a worker process → store the text
→ swap the chunks and mark ``ready`` in one transaction (re-ingesting replaces the chunks
atomically; a reader sees the old set or the new one). A file that cannot be processed marks
the document ``failed`` with the reason and raises :class:`IngestionFailed` (permanent);
infrastructure errors (storage, database) propagate so the job is retried.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.core.storage import Storage, new_key
from dossier.db.engine import Database
from dossier.documents import repository
from dossier.documents.chunking import Chunk, chunk_pages
from dossier.documents.extraction import (
    ExtractedText,
    ExtractionFailed,
    ExtractionLimits,
    extract_text,
)
from dossier.models.document import Document, DocumentStatus

logger = structlog.get_logger("dossier.documents.ingestion")

RunCpu = Callable[..., Awaitable[Any]]
Progress = Callable[[int, str], Awaitable[None]]


class IngestionFailed(Exception):
    """The document itself cannot be ingested; the reason is stored on the document."""


@dataclass
class Processed:
    extracted: ExtractedText
    chunks: list[Chunk]


@dataclass(frozen=True)
class ChunkingOptions:
    size: int
    overlap: int


def process_file(
    path: str, doc_type: str, limits: ExtractionLimits, chunking: ChunkingOptions
) -> Processed:
    """Extraction and chunking together: one round trip to the worker process."""
    extracted = extract_text(path, doc_type, limits)
    chunks = chunk_pages(
        extracted.pages, paged=extracted.paged, size=chunking.size, overlap=chunking.overlap
    )
    return Processed(extracted=extracted, chunks=chunks)


def limits_from(settings: Settings) -> ExtractionLimits:
    return ExtractionLimits(
        max_pages=settings.documents_max_pages,
        max_decompressed_bytes=settings.documents_max_decompressed_bytes,
        max_text_chars=settings.documents_max_text_chars,
        timeout_seconds=settings.documents_extraction_timeout_seconds,
    )


async def _no_progress(_percent: int, _message: str) -> None:
    return None


async def _set_status(database: Database, document_id: uuid.UUID, **values: Any) -> Document | None:
    async with database.writer_sessionmaker() as session, session.begin():
        document = await repository.get(session, document_id)
        if document is None:
            return None
        for name, value in values.items():
            setattr(document, name, value)
        document.version += 1
        return document


async def mark_failed(database: Database, document_id: uuid.UUID, reason: str) -> None:
    """Record a permanent failure: status ``failed`` with the reason, no searchable chunks."""
    async with database.writer_sessionmaker() as session, session.begin():
        document = await repository.get(session, document_id)
        if document is None:
            return
        await repository.delete_chunks(session, document_id)
        document.status = DocumentStatus.FAILED.value
        document.failure_reason = reason[:2000]
        document.chunk_count = 0
        document.version += 1
    logger.info("document_failed", document_id=str(document_id), reason=reason)


async def ingest_document(
    database: Database,
    storage: Storage,
    settings: Settings,
    document_id: uuid.UUID,
    *,
    run_cpu: RunCpu,
    progress: Progress = _no_progress,
    job_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Ingest one document; idempotent (running it twice leaves the same chunks)."""
    values: dict[str, Any] = {"status": DocumentStatus.PROCESSING.value, "failure_reason": None}
    if job_id is not None:
        values["latest_job_id"] = job_id
    document = await _set_status(database, document_id, **values)
    if document is None:
        raise IngestionFailed("the document no longer exists")
    await progress(5, "fetching the file")

    tmp_dir = settings.data_dir / "tmp"
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    local = tmp_dir / f"ingest-{secrets.token_hex(12)}"
    try:
        await storage.download_to(document.storage_key, local)
        await progress(20, "extracting text")
        try:
            processed: Processed = await run_cpu(
                process_file,
                str(local),
                document.doc_type,
                limits_from(settings),
                ChunkingOptions(
                    size=settings.documents_chunk_chars,
                    overlap=settings.documents_chunk_overlap_chars,
                ),
            )
        except ExtractionFailed as exc:
            await mark_failed(database, document_id, str(exc))
            raise IngestionFailed(str(exc)) from exc
    finally:
        await asyncio.to_thread(local.unlink, missing_ok=True)

    extracted = processed.extracted
    await progress(70, f"indexing {len(processed.chunks)} chunks")
    text = extracted.text
    text_key = new_key("texts")
    await storage.put_bytes(text_key, text.encode("utf-8"))

    old_text_key: str | None = None
    async with database.writer_sessionmaker() as session, session.begin():
        current = await repository.get(session, document_id)
        if current is None:  # deleted while we worked
            await storage.delete(text_key)
            raise IngestionFailed("the document was deleted during ingestion")
        await repository.replace_chunks(
            session,
            document_id,
            [{"ordinal": c.ordinal, "page": c.page, "text": c.text} for c in processed.chunks],
        )
        old_text_key = current.text_key
        current.text_key = text_key
        current.text_chars = len(text)
        current.page_count = extracted.page_count
        current.chunk_count = len(processed.chunks)
        current.warnings = list(extracted.warnings)
        current.status = DocumentStatus.READY.value
        current.failure_reason = None
        current.ingested_at = utcnow()
        current.version += 1
    if old_text_key and old_text_key != text_key:
        await storage.delete(old_text_key)
    await progress(100, "ready")
    result = {
        "document_id": str(document_id),
        "chunks": len(processed.chunks),
        "pages": extracted.page_count,
        "text_chars": len(text),
        "warnings": list(extracted.warnings),
    }
    logger.info("document_ingested", **result)
    return result
