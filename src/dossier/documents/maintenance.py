"""Blobs nobody refers to: what a crash between storing a file and committing its row leaves.

An upload stores the file first and commits the document row after; ingestion stores the text
first and points the document at it after. A process that dies in between leaves an object no
row names. The workers' housekeeping deletes such objects once they are older than a grace
period (``DOSSIER_DOCUMENTS_ORPHAN_GRACE_HOURS``), far longer than any upload or ingestion, so
an object whose row is about to be committed is never touched.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from dossier.core.clock import utcnow
from dossier.core.storage import Storage
from dossier.db.engine import Database
from dossier.models.document import Document

logger = structlog.get_logger("dossier.documents")

# Object kinds (key prefixes, see storage.new_key) and the column that refers to them.
REFERENCES: dict[str, InstrumentedAttribute[str] | InstrumentedAttribute[str | None]] = {
    "documents": Document.storage_key,
    "texts": Document.text_key,
}


async def sweep_orphan_blobs(database: Database, storage: Storage, *, grace: timedelta) -> int:
    """Delete objects older than ``grace`` that no document refers to; returns how many."""
    cutoff = utcnow() - grace
    removed = 0
    for kind, column in REFERENCES.items():
        async for batch in storage.iter_keys(kind, older_than=cutoff):
            async with database.reader_sessionmaker() as session:
                referenced = set(await session.scalars(select(column).where(column.in_(batch))))
            for key in batch:
                if key not in referenced:
                    await storage.delete(key)
                    removed += 1
    removed += await storage.sweep_temporary(older_than=cutoff)
    if removed:
        logger.info("orphan_blobs_deleted", count=removed)
    return removed
