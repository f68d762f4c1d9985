"""Every query of the document aggregate. Visibility lives in :func:`readable_by` only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.models.document import Document, DocumentChunk


def readable_by(principal: Principal) -> ColumnElement[bool]:
    """Users see their own documents; moderators and admins see all."""
    if principal.is_moderator:
        return true()
    return Document.owner_id == principal.user_id


@dataclass(frozen=True)
class DocumentFilters:
    status: str | None = None
    doc_type: str | None = None
    title_contains: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.status:
            clauses.append(Document.status == self.status)
        if self.doc_type:
            clauses.append(Document.doc_type == self.doc_type)
        if self.title_contains:
            escaped = (
                self.title_contains.lower()
                .replace("\\", "\\\\")
                .replace("%", "\\%")
                .replace("_", "\\_")
            )
            clauses.append(func.lower(Document.title).like(f"%{escaped}%", escape="\\"))
        return clauses


async def get_readable(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> Document | None:
    statement = select(Document).where(Document.id == document_id, readable_by(principal))
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """Any document, whoever owns it: for background jobs acting on the system's behalf."""
    return await session.get(Document, document_id, populate_existing=True)


async def find_duplicate(
    session: AsyncSession, *, owner_id: uuid.UUID, sha256: str
) -> Document | None:
    statement = (
        select(Document)
        .where(Document.owner_id == owner_id, Document.sha256 == sha256)
        .order_by(Document.created_at)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


def list_statement(principal: Principal, filters: DocumentFilters) -> Any:
    return select(Document).where(readable_by(principal), *filters.clauses())


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    filters: DocumentFilters,
    limit: int,
    offset: int,
) -> tuple[Sequence[Document], int]:
    where = [readable_by(principal), *filters.clauses()]
    total = (
        await session.execute(select(func.count()).select_from(Document).where(*where))
    ).scalar_one()
    statement = (
        select(Document)
        .where(*where)
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = (await session.execute(statement)).scalars().all()
    return items, int(total)


async def replace_chunks(
    session: AsyncSession, document_id: uuid.UUID, chunks: Sequence[dict[str, Any]]
) -> None:
    """Swap a document's chunks (and so its index entries) inside the caller's transaction."""
    await delete_chunks(session, document_id)
    if chunks:
        await session.execute(
            insert(DocumentChunk), [{"document_id": document_id, **chunk} for chunk in chunks]
        )


async def delete_chunks(session: AsyncSession, document_id: uuid.UUID) -> None:
    await session.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document_id))


async def all_ids(session: AsyncSession) -> Sequence[uuid.UUID]:
    statement = select(Document.id).order_by(Document.created_at, Document.id)
    return (await session.execute(statement)).scalars().all()
