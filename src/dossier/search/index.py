"""One search interface over two full-text engines.

SQLite: an FTS5 table with external content (``document_chunks``), kept in step by triggers,
ranked with BM25, porter-stemmed. PostgreSQL: a generated ``tsvector`` column on
``document_chunks`` with a GIN index, ranked with ``ts_rank_cd``, English stemming. Both are
created by the documents migration; writes go to ``document_chunks`` and the index follows in
the same transaction. Highlights come back wrapped in control characters (which extraction
removes from the text) and are turned into escaped HTML with ``<mark>`` by :func:`render_snippet`.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.models.document import Document, DocumentChunk
from dossier.search.query import SearchQuery

MARK_START = "\x02"
MARK_END = "\x03"
SNIPPET_WORDS = 24


@dataclass(frozen=True)
class SearchHit:
    document_id: uuid.UUID
    title: str
    chunk_id: int
    chunk_index: int
    page: int | None
    snippet: str
    score: float


def render_snippet(raw: str) -> str:
    """Escape the chunk text for HTML and turn the engine's markers into ``<mark>``."""
    return html.escape(raw).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def _hits(
    rows: Sequence[Row[Any, Any, Any, Any, Any, Any, Any]], *, sign: float
) -> list[SearchHit]:
    """Rows of (document id, title, chunk id, ordinal, page, raw snippet, rank) as hits."""
    return [
        SearchHit(
            document_id=row[0],
            title=row[1],
            chunk_id=row[2],
            chunk_index=row[3],
            page=row[4],
            snippet=render_snippet(row[5] or ""),
            score=round(sign * float(row[6]), 6),
        )
        for row in rows
    ]


class SearchIndex(Protocol):
    async def search(
        self,
        session: AsyncSession,
        query: SearchQuery,
        *,
        visible: ColumnElement[bool],
        limit: int,
        offset: int,
    ) -> tuple[list[SearchHit], int]: ...

    async def rebuild(self, session: AsyncSession) -> None:
        """Rebuild the index from ``document_chunks`` (after a restore or corruption)."""


_fts = table("document_chunks_fts", column("rowid"))


class SqliteSearchIndex:
    async def search(
        self,
        session: AsyncSession,
        query: SearchQuery,
        *,
        visible: ColumnElement[bool],
        limit: int,
        offset: int,
    ) -> tuple[list[SearchHit], int]:
        match = text("document_chunks_fts MATCH :match").bindparams(match=query.to_fts5())
        joined = _fts.join(DocumentChunk, DocumentChunk.id == _fts.c.rowid).join(
            Document, Document.id == DocumentChunk.document_id
        )
        total = (
            await session.execute(select(func.count()).select_from(joined).where(match, visible))
        ).scalar_one()
        if not total:
            return [], 0
        rank = literal_column("bm25(document_chunks_fts)", Float)
        snippet = func.snippet(
            literal_column("document_chunks_fts"),
            0,
            MARK_START,
            MARK_END,
            "…",
            SNIPPET_WORDS,
        )
        statement = (
            select(
                Document.id,
                Document.title,
                DocumentChunk.id,
                DocumentChunk.ordinal,
                DocumentChunk.page,
                snippet,
                rank,
            )
            .select_from(joined)
            .where(match, visible)
            .order_by(rank, DocumentChunk.id)
            .limit(limit)
            .offset(offset)
        )
        # BM25 is lower for better matches; scores go out higher-is-better.
        return _hits((await session.execute(statement)).all(), sign=-1.0), int(total)

    async def rebuild(self, session: AsyncSession) -> None:
        await session.execute(
            text("INSERT INTO document_chunks_fts(document_chunks_fts) VALUES ('rebuild')")
        )


class PostgresSearchIndex:
    _vector: ColumnElement[Any] = literal_column("document_chunks.search_vector")

    async def search(
        self,
        session: AsyncSession,
        query: SearchQuery,
        *,
        visible: ColumnElement[bool],
        limit: int,
        offset: int,
    ) -> tuple[list[SearchHit], int]:
        tsquery = func.to_tsquery(
            literal_column("'english'::regconfig"), literal(query.to_tsquery())
        )
        match = self._vector.op("@@")(tsquery)
        joined = DocumentChunk.__table__.join(Document, Document.id == DocumentChunk.document_id)
        total = (
            await session.execute(select(func.count()).select_from(joined).where(match, visible))
        ).scalar_one()
        if not total:
            return [], 0
        rank = func.ts_rank_cd(self._vector, tsquery, 32).label("rank")
        page = (
            select(
                Document.id.label("document_id"),
                Document.title.label("title"),
                DocumentChunk.id.label("chunk_id"),
                DocumentChunk.ordinal.label("ordinal"),
                DocumentChunk.page.label("page"),
                DocumentChunk.text.label("text"),
                rank,
            )
            .select_from(joined)
            .where(match, visible)
            .order_by(rank.desc(), DocumentChunk.id)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        # Headlines are costly: compute them for the page of hits only.
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, "
            'MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
        )
        headline = func.ts_headline(
            literal_column("'english'::regconfig"), page.c.text, tsquery, literal(options)
        )
        statement = select(
            page.c.document_id,
            page.c.title,
            page.c.chunk_id,
            page.c.ordinal,
            page.c.page,
            headline,
            page.c.rank,
        ).order_by(page.c.rank.desc(), page.c.chunk_id)
        return _hits((await session.execute(statement)).all(), sign=1.0), int(total)

    async def rebuild(self, session: AsyncSession) -> None:
        # The tsvector is a generated column: rebuilding means rebuilding its index.
        await session.execute(text("REINDEX INDEX ix_document_chunks_search_vector"))


def search_index_for(dialect: str) -> SearchIndex:
    if dialect == "sqlite":
        return SqliteSearchIndex()
    if dialect == "postgresql":
        return PostgresSearchIndex()
    raise ValueError(f"no full-text search for the {dialect} dialect")
