"""The ``documents.ingest`` job (the job engine's handle on :func:`ingest_document`) and the
workers' sweep of orphaned blobs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from dossier.config import Settings
from dossier.core.storage import Storage, create_storage
from dossier.db.engine import Database
from dossier.documents.ingestion import IngestionFailed, ingest_document, mark_failed
from dossier.documents.maintenance import sweep_orphan_blobs
from dossier.documents.service import INGEST_KIND
from dossier.jobs import JobCancelled, JobContext, PermanentJobError, housekeeping, job_handler

# One storage client per storage URL and process: S3 clients are costly to build per job.
_storages: dict[str, Storage] = {}


def _storage(settings: Settings) -> Storage:
    url = settings.resolved_storage_url
    if url not in _storages:
        _storages[url] = create_storage(settings)
    return _storages[url]


@job_handler(INGEST_KIND, max_attempts=5)
async def ingest(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    document_id = uuid.UUID(str(payload["document_id"]))

    async def progress(percent: int, message: str) -> None:
        await ctx.progress(percent, message)
        ctx.raise_if_cancelled()

    try:
        return await ingest_document(
            ctx.database,
            _storage(ctx.settings),
            ctx.settings,
            document_id,
            run_cpu=ctx.run_cpu,
            progress=progress,
            job_id=ctx.job_id,
        )
    except IngestionFailed as exc:
        raise PermanentJobError(str(exc)) from exc
    except JobCancelled:
        await mark_failed(ctx.database, document_id, "ingestion was cancelled")
        raise
    except Exception as exc:
        # Retried by the engine; after the last attempt the document must not stay
        # "processing" for ever.
        if ctx.attempt >= ctx.max_attempts:
            await mark_failed(
                ctx.database, document_id, f"ingestion failed {ctx.attempt} times: {exc}"
            )
        raise


@housekeeping("documents.orphan_blobs")
async def sweep_orphans(database: Database, settings: Settings) -> int:
    if settings.documents_orphan_grace_hours <= 0:
        return 0
    return await sweep_orphan_blobs(
        database, _storage(settings), grace=timedelta(hours=settings.documents_orphan_grace_hours)
    )
