"""Search over the chunks of the documents the caller may see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dossier.auth.principal import Principal
from dossier.documents.repository import readable_by
from dossier.search.index import SearchHit, search_index_for
from dossier.search.query import parse_query


async def search(
    session: AsyncSession, principal: Principal, *, q: str, limit: int, offset: int
) -> tuple[list[SearchHit], int]:
    query = parse_query(q)
    index = search_index_for(session.get_bind().dialect.name)
    return await index.search(
        session, query, visible=readable_by(principal), limit=limit, offset=offset
    )


async def rebuild_index(session: AsyncSession) -> None:
    await search_index_for(session.get_bind().dialect.name).rebuild(session)
