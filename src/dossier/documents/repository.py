"""Every query of the document aggregate. Visibility lives in :func:`readable_by` only."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.core.pagination import (
    CursorCodec,
    PageParams,
    PageResult,
    Sorting,
    SortOrder,
    paginate,
)
from dossier.core.sql import contains_ignoring_case
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

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "type": self.doc_type, "q": self.title_contains}

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.status:
            clauses.append(Document.status == self.status)
        if self.doc_type:
            clauses.append(Document.doc_type == self.doc_type)
        if self.title_contains:
            clauses.append(contains_ignoring_case(Document.title, self.title_contains))
        return clauses


async def get_readable(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> Document | None:
    statement = select(Document).where(Document.id == document_id, readable_by(principal))
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """Any document, whoever owns it: for background jobs acting on the system's behalf."""
    return await session.get(Document, document_id, populate_existing=True)


async def lock_content(session: AsyncSession, *, owner_id: uuid.UUID, sha256: str) -> None:
    """Serialise uploads of the same content by the same owner until the transaction ends, so
    that a duplicate check followed by an insert cannot race another one (reject policy).

    PostgreSQL: a transaction-scoped advisory lock on a 64-bit key derived from owner and
    digest (a collision only makes two unrelated uploads wait for each other). SQLite: nothing
    to do — a writing unit of work runs in a ``BEGIN IMMEDIATE`` transaction, which already
    holds the database's write lock from its first statement to its commit."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"document-content:{owner_id}:{sha256}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


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


# Indexed: (owner_id, created_at, id) for users, (created_at, id) for moderators.
SORTING = Sorting(
    fields={"created_at": Document.created_at}, id_column=Document.id, default="-created_at"
)


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    filters: DocumentFilters,
    params: PageParams,
    order: SortOrder,
    codec: CursorCodec,
) -> PageResult[Document]:
    statement = select(Document).where(readable_by(principal), *filters.clauses())
    return await paginate(
        session,
        statement,
        params=params,
        sorting=SORTING,
        order=order,
        codec=codec,
        filters=filters.as_dict(),
        scope="/api/v1/documents",
    )


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
