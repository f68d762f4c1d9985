"""Business rules for documents: upload, reads, deletion. Never commits; raises domain errors."""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
import uuid
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.config import Settings
from dossier.core.conditional import check_if_match, etag_for
from dossier.core.errors import Forbidden
from dossier.core.pagination import CursorCodec, PageParams, PageResult
from dossier.core.storage import Storage, new_key
from dossier.documents import repository
from dossier.documents.detection import EXTENSIONS, UnsupportedContent, detect
from dossier.documents.errors import (
    DocumentNotFound,
    DocumentTextUnavailable,
    DuplicateDocument,
    UnsupportedDocumentType,
)
from dossier.documents.repository import DocumentFilters
from dossier.documents.upload import ReceivedUpload
from dossier.jobs import enqueue
from dossier.models.document import Document, DocumentStatus, DocumentType
from dossier.models.job import Job, JobStatus

logger = structlog.get_logger("dossier.documents")

INGEST_KIND = "documents.ingest"
ACTIVE_JOB_STATUSES = frozenset({JobStatus.QUEUED.value, JobStatus.RUNNING.value})

_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|;]+")


def safe_filename(raw: str, doc_type: DocumentType) -> str:
    """The client's name made harmless: no path, no control or shell characters, bounded."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if not name:
        name = "document" + EXTENSIONS[doc_type]
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:190] + dot + suffix[:9]) if dot and len(suffix) < 10 else name[:200]
    return name


async def upload_document(
    session: AsyncSession,
    principal: Principal,
    *,
    upload: ReceivedUpload,
    storage: Storage,
    settings: Settings,
) -> Document:
    """Turn a received upload into a stored document (``status: uploaded``)."""
    try:
        try:
            detection = await asyncio.to_thread(detect, upload.path, upload.filename)
        except UnsupportedContent as exc:
            raise UnsupportedDocumentType(
                f"{exc}. Only PDF, plain text, Markdown, HTML and DOCX files are accepted."
            ) from exc
        if settings.documents_duplicate_policy == "reject":
            await repository.lock_content(session, owner_id=principal.user_id, sha256=upload.sha256)
            existing = await repository.find_duplicate(
                session, owner_id=principal.user_id, sha256=upload.sha256
            )
            if existing is not None:
                raise DuplicateDocument(
                    f"You already uploaded this file as document {existing.id}.",
                    extra={"existing_document_id": str(existing.id)},
                )
        filename = safe_filename(upload.filename, detection.doc_type)
        key = new_key("documents")
        await storage.put_file(key, upload.path)
    finally:
        upload.discard()
    document = Document(
        id=uuid.uuid4(),
        owner_id=principal.user_id,
        title=upload.title or filename.rsplit(".", 1)[0][:255] or filename,
        filename=filename,
        doc_type=detection.doc_type.value,
        content_type=detection.content_type,
        size_bytes=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        status=DocumentStatus.UPLOADED.value,
        warnings=[],
    )
    session.add(document)
    try:
        await session.flush()
    except BaseException:
        await storage.delete(key)
        raise
    logger.info(
        "document_uploaded",
        document_id=str(document.id),
        doc_type=document.doc_type,
        size_bytes=document.size_bytes,
    )
    return document


async def get_document(
    session: AsyncSession, principal: Principal, *, document_id: uuid.UUID
) -> Document:
    document = await repository.get_readable(session, principal, document_id)
    if document is None:
        raise DocumentNotFound()
    return document


async def list_documents(
    session: AsyncSession,
    principal: Principal,
    *,
    filters: DocumentFilters,
    params: PageParams,
    sort: str | None,
    codec: CursorCodec,
) -> PageResult[Document]:
    return await repository.list_page(
        session,
        principal,
        filters=filters,
        params=params,
        order=repository.SORTING.parse(sort),
        codec=codec,
    )


async def get_text(
    session: AsyncSession, principal: Principal, *, document_id: uuid.UUID, storage: Storage
) -> tuple[Document, str]:
    document = await get_document(session, principal, document_id=document_id)
    if document.status != DocumentStatus.READY.value or document.text_key is None:
        raise DocumentTextUnavailable(
            f"The document is {document.status}; its text exists once ingestion succeeded."
        )
    data = await storage.get_bytes(document.text_key)
    return document, data.decode("utf-8")


async def delete_document(
    session: AsyncSession,
    principal: Principal,
    *,
    document_id: uuid.UUID,
    if_match: str | None = None,
    if_match_required: bool = False,
) -> list[str]:
    """Delete the row, its chunks and index entries; return the blob keys to remove.

    Blobs are removed by the caller after the transaction committed, so a failed commit never
    leaves a document pointing at a deleted file.
    """
    document = await get_document(session, principal, document_id=document_id)
    if not principal.is_admin and document.owner_id != principal.user_id:
        # Moderators read everything but delete only their own.
        raise Forbidden("Only the owner or an administrator may delete a document.")
    check_if_match(if_match, etag_for(document.id, document.version), required=if_match_required)
    keys = [document.storage_key] + ([document.text_key] if document.text_key else [])
    await repository.delete_chunks(session, document.id)
    await session.delete(document)
    await session.flush()
    logger.info("document_deleted", document_id=str(document.id))
    return keys


def temporary_dir(settings: Settings) -> Path:
    return settings.data_dir / "tmp"


STALE_TEMPORARY_SECONDS = 3600


def sweep_temporary_files(
    settings: Settings, *, older_than: float = STALE_TEMPORARY_SECONDS
) -> int:
    """Delete staging files a crashed process left behind (run at startup; blocking)."""
    folder = temporary_dir(settings)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def request_ingest(
    session: AsyncSession, principal: Principal, *, document_id: uuid.UUID
) -> Job:
    """Enqueue ingestion in the caller's unit of work; a job already waiting is reused."""
    document = await get_document(session, principal, document_id=document_id)
    if not principal.is_admin and document.owner_id != principal.user_id:
        raise Forbidden("Only the owner or an administrator may ingest a document.")
    return await _enqueue_ingest(session, document)


async def _enqueue_ingest(session: AsyncSession, document: Document) -> Job:
    if document.latest_job_id is not None:
        current = await session.get(Job, document.latest_job_id)
        if current is not None and current.status in ACTIVE_JOB_STATUSES:
            return current
    job = await enqueue(
        session,
        kind=INGEST_KIND,
        payload={"document_id": str(document.id)},
        owner_id=document.owner_id,
        dedupe_key=f"ingest:{document.id}:{document.version}",
    )
    document.latest_job_id = job.id
    document.version += 1
    await session.flush()
    return job


async def latest_job(session: AsyncSession, document: Document) -> Job | None:
    if document.latest_job_id is None:
        return None
    return await session.get(Job, document.latest_job_id)
