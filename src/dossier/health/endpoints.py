from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from dossier.core.errors import problem_response
from dossier.core.metrics import render_latest
from dossier.core.openapi import problem_responses
from dossier.core.routing import Router
from dossier.health.schemas import Liveness, Readiness
from dossier.health.service import check_readiness

router = Router(prefix="/health", tags=["health"])


@router.get("/live", response_model=Liveness, summary="The process answers")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database (and Redis, when configured) answer",
    responses=problem_responses(503),
)
async def ready(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, Callable[[], Awaitable[object]]] = {"database": state.database.ping}
    if state.redis is not None:
        checks["redis"] = state.redis.ping
    result = await check_readiness(checks)
    if result.status == "ok":
        return JSONResponse(result.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
    return problem_response(
        request.scope,
        status=503,
        code="dependency_unavailable",
        detail="A dependency is not ready: "
        + ", ".join(name for name, check in result.checks.items() if check.status != "ok"),
        extra=result.model_dump(mode="json"),
        headers={"Cache-Control": "no-store", "Retry-After": "5"},
    )


metrics_router = Router(tags=["health"])


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return problem_response(
                request.scope,
                status=401,
                detail="Metrics need the configured bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body, content_type = render_latest()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
