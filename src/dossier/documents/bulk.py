"""Bulk operations outside HTTP: import files and folders, re-ingest everything (CLI)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from dossier.auth.principal import Principal
from dossier.config import Settings
from dossier.core.errors import DomainError
from dossier.core.storage import Storage
from dossier.db.engine import Database
from dossier.documents import repository, service
from dossier.documents.errors import UploadTooLarge
from dossier.documents.ingestion import IngestionFailed, RunCpu, ingest_document
from dossier.documents.upload import ReceivedUpload
from dossier.models.user import Role, User
from dossier.search.service import rebuild_index


class OwnerNotFound(Exception):
    pass


@dataclass
class Outcome:
    path: str
    document_id: uuid.UUID | None = None
    error: str | None = None
    chunks: int = 0


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.error]


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and every regular file below given folders (hidden ones skipped)."""
    found: list[Path] = []

    def walk(folder: Path) -> Iterator[Path]:
        for child in sorted(folder.rglob("*")):
            relative = child.relative_to(folder)
            if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield child

    for path in paths:
        if path.is_dir():
            found.extend(walk(path))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(str(path))
    return found


async def find_owner(database: Database, email: str) -> Principal:
    async with database.sessionmaker() as session:
        user = (
            await session.execute(select(User).where(User.email == email.strip().lower()))
        ).scalar_one_or_none()
    if user is None:
        raise OwnerNotFound(f"no user with the email {email}")
    return Principal(user_id=user.id, role=Role(user.role))


def stage_file(source: Path, tmp_dir: Path, max_bytes: int) -> ReceivedUpload:
    """Copy a local file to the upload staging area, hashing it, as an upload would."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    staged = tmp_dir / f"import-{secrets.token_hex(12)}"
    digest = hashlib.sha256()
    size = 0
    try:
        with source.open("rb") as reader, staged.open("xb") as writer:
            while block := reader.read(1024 * 1024):
                size += len(block)
                if size > max_bytes:
                    raise UploadTooLarge(
                        f"larger than {max_bytes} bytes (DOSSIER_MAX_UPLOAD_BYTES)"
                    )
                digest.update(block)
                writer.write(block)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return ReceivedUpload(
        path=staged, filename=source.name, size=size, sha256=digest.hexdigest(), title=None
    )


async def import_file(
    database: Database,
    storage: Storage,
    settings: Settings,
    principal: Principal,
    path: Path,
    *,
    run_cpu: RunCpu,
) -> Outcome:
    outcome = Outcome(path=str(path))
    try:
        upload = await asyncio.to_thread(
            stage_file, path, service.temporary_dir(settings), settings.max_upload_bytes
        )
        async with database.writer_sessionmaker() as session, session.begin():
            document = await service.upload_document(
                session, principal, upload=upload, storage=storage, settings=settings
            )
        outcome.document_id = document.id
        result = await ingest_document(database, storage, settings, document.id, run_cpu=run_cpu)
        outcome.chunks = int(result["chunks"])
    except (DomainError, IngestionFailed, OSError) as exc:
        outcome.error = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    return outcome


async def reingest_all(
    database: Database,
    storage: Storage,
    settings: Settings,
    *,
    run_cpu: RunCpu,
    on_total: Callable[[int], None],
    on_done: Callable[[Outcome], None],
) -> Summary:
    """Re-extract and re-index every document, then rebuild the engine's index."""
    async with database.sessionmaker() as session:
        ids = await repository.all_ids(session)
    on_total(len(ids))
    summary = Summary()
    for document_id in ids:
        outcome = Outcome(path=str(document_id), document_id=document_id)
        try:
            result = await ingest_document(
                database, storage, settings, document_id, run_cpu=run_cpu
            )
            outcome.chunks = int(result["chunks"])
        except IngestionFailed as exc:
            outcome.error = str(exc)
        summary.outcomes.append(outcome)
        on_done(outcome)
    await rebuild_search_index(database)
    return summary


async def rebuild_search_index(database: Database) -> None:
    async with database.writer_sessionmaker() as session, session.begin():
        await rebuild_index(session)
