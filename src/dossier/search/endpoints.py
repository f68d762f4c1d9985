"""HTTP route of full-text search."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from dossier.auth.dependencies import CurrentPrincipal
from dossier.core.openapi import problem_responses
from dossier.core.pagination import Page, PageResult, page_response
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.search import service
from dossier.search.schemas import SearchHitRead

router = Router(prefix="/api/v1/search", tags=["search"])


@router.get(
    "",
    response_model=Page[SearchHitRead],
    summary="Full-text search over your documents",
    description=(
        'Words must all match (stemmed); `"an exact phrase"`; `prefix*`; `-excluded`. '
        "Other punctuation is ignored. An unbalanced quote or a query with nothing to look for "
        "is a 400 problem with code `invalid_search_query`."
    ),
    responses=problem_responses(400, 401),
)
async def search(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The query.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Page[SearchHitRead]:
    hits, total = await service.search(
        session, principal, q=q, limit=limit, offset=(page - 1) * limit
    )
    result = PageResult(items=hits, limit=limit, page=page, total=total)
    return page_response(
        request,
        response,
        result,
        [
            SearchHitRead(
                document_id=hit.document_id,
                title=hit.title,
                snippet=hit.snippet,
                score=hit.score,
                chunk_index=hit.chunk_index,
                page=hit.page,
            )
            for hit in hits
        ],
    )
