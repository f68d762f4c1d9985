"""Blobs no document refers to (a crash between storing and committing) are swept once old."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from dossier.config import Settings
from dossier.core.storage import Storage, create_storage, new_key
from dossier.db.engine import Database
from dossier.documents.maintenance import sweep_orphan_blobs
from dossier.jobs.worker import Worker
from dossier.models.document import Document
from dossier.models.user import User
from tests.documents import files
from tests.documents.conftest import Ingest, Upload
from tests.jobs.conftest import FAST


async def _keys(database: Database, document_id: str) -> tuple[str, str | None]:
    async with database.sessionmaker() as session:
        row = (
            await session.execute(
                select(Document.storage_key, Document.text_key).where(
                    Document.id == uuid.UUID(document_id)
                )
            )
        ).one()
    return row[0], row[1]


async def _orphans(storage: Storage) -> list[str]:
    keys = [new_key("documents"), new_key("texts")]
    for key in keys:
        await storage.put_bytes(key, b"stored, then the process died before the commit")
    return keys


async def test_sweep_deletes_old_orphans_and_keeps_what_documents_use(
    upload: Upload, ingest: Ingest, owner: User, database: Database, settings: Settings
) -> None:
    document = (await upload(owner, files.TEXT.encode(), "kept.txt")).json()
    await ingest(document["id"])
    storage_key, text_key = await _keys(database, document["id"])
    assert text_key is not None
    storage = create_storage(settings)
    try:
        orphans = await _orphans(storage)
        # Within the grace period nothing is touched: a row may be about to commit.
        assert await sweep_orphan_blobs(database, storage, grace=timedelta(hours=1)) == 0
        assert all([await storage.exists(key) for key in orphans])
        # Past it, the orphans go and the document's objects stay.
        assert await sweep_orphan_blobs(database, storage, grace=timedelta(0)) == 2
        assert not any([await storage.exists(key) for key in orphans])
        assert await storage.exists(storage_key)
        assert await storage.exists(text_key)
    finally:
        await storage.close()


async def test_workers_sweep_on_their_schedule(
    database: Database, make_settings: Callable[..., Settings]
) -> None:
    import dossier.documents.jobs  # noqa: F401  (registers the sweep, as workers do)

    settings = make_settings(
        **{**FAST, "job_purge_interval": 0.1, "documents_orphan_grace_hours": 0.0001}
    )
    storage = create_storage(settings)
    try:
        orphans = await _orphans(storage)
        worker = Worker(database=database, settings=settings, concurrency=1)
        await worker.start()
        try:
            for _ in range(100):
                if not any([await storage.exists(key) for key in orphans]):
                    break
                await asyncio.sleep(0.05)
        finally:
            await worker.stop(grace=1)
        assert not any([await storage.exists(key) for key in orphans])
    finally:
        await storage.close()
