"""``GET /api/v1/admin/stats``: the dashboard figures (moderator and admin)."""

from __future__ import annotations

from fastapi import Response

from dossier.admin import service
from dossier.admin.dependencies import CacheDep
from dossier.admin.schemas import AdminStats
from dossier.auth.dependencies import ModeratorPrincipal
from dossier.core.openapi import problem_responses
from dossier.core.routing import Router
from dossier.db.session import SessionDep

router = Router(prefix="/api/v1/admin", tags=["admin"])


@router.get(
    "/stats",
    response_model=AdminStats,
    responses=problem_responses(401, 403),
    summary="Users by role, tasks open and done, documents and jobs by status (cached 15 s)",
)
async def stats(
    session: SessionDep, principal: ModeratorPrincipal, cache: CacheDep, response: Response
) -> AdminStats:
    result = await service.get_stats(session, principal, cache=cache)
    response.headers["Cache-Control"] = "private, max-age=15"
    return result
