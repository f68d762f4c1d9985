"""HTTP routes of the jobs API (``/api/v1/jobs``, ``/api/v1/admin/jobs``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from dossier.auth.dependencies import CurrentPrincipal, ModeratorPrincipal
from dossier.core.conditional import (
    IfNoneMatchHeader,
    not_modified,
    not_modified_response,
    set_etag,
)
from dossier.core.openapi import problem_responses
from dossier.core.pagination import CursorCodecDep, Page, PageParamsDep, page_response
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.jobs_api import service
from dossier.jobs_api.dependencies import VisibleJob
from dossier.jobs_api.schemas import JobRead, JobSort, JobStatusName

router = Router(prefix="/api/v1/jobs", tags=["jobs"])
admin_router = Router(prefix="/api/v1/admin", tags=["admin"])

StatusFilter = Annotated[JobStatusName | None, Query(description="Only jobs in this status.")]
KindFilter = Annotated[
    str | None, Query(min_length=1, max_length=100, description="Only jobs of this kind.")
]


@router.get(
    "",
    response_model=Page[JobRead],
    summary="The caller's jobs",
    responses=problem_responses(400, 401),
)
async def list_jobs(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    params: PageParamsDep,
    codec: CursorCodecDep,
    status: StatusFilter = None,
    kind: KindFilter = None,
    sort: Annotated[JobSort, Query(description="Order by creation time.")] = "-created_at",
) -> Page[JobRead]:
    result = await service.list_my_jobs(
        session, principal, status=status, kind=kind, sort=sort, params=params, codec=codec
    )
    return page_response(
        request, response, result, [JobRead.model_validate(job) for job in result.items]
    )


@router.get(
    "/{job_id}",
    response_model=JobRead,
    summary="One job",
    responses={304: {"description": "Not modified"}, **problem_responses(401, 404)},
)
async def get_job(
    response: Response, job: VisibleJob, if_none_match: IfNoneMatchHeader = None
) -> JobRead | Response:
    etag = service.job_etag(job)
    if not_modified(if_none_match, etag):
        return not_modified_response(etag)
    set_etag(response, etag)
    return JobRead.model_validate(job)


def _sse(event: str, data: str, event_id: str | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


@router.get(
    "/{job_id}/events",
    summary="Follow a job (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`status` events (the job as JSON) until a terminal state; "
            "`: keep-alive` comments in between.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 404),
    },
)
async def job_events(request: Request, job: VisibleJob) -> StreamingResponse:
    settings = request.app.state.settings
    database = request.app.state.database
    job_id = job.id

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for snapshot in service.follow_job(
            database,
            job_id=job_id,
            poll_interval=settings.job_events_poll_interval,
            keepalive=settings.job_events_keepalive_seconds,
            max_seconds=settings.job_events_max_seconds,
        ):
            if snapshot is None:
                yield ": keep-alive\n\n"
                continue
            body = JobRead.model_validate(snapshot).model_dump_json()
            yield _sse("status", body, event_id=f"{snapshot.attempts}-{snapshot.progress}")
        yield _sse("end", json.dumps({"id": str(job_id)}))

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/{job_id}/retry",
    response_model=JobRead,
    summary="Run a failed or dead job again",
    responses=problem_responses(401, 403, 404, 409),
)
async def retry_job(job_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> JobRead:
    job = await service.retry_job(session, principal, job_id=job_id)
    return JobRead.model_validate(job)


@router.post(
    "/{job_id}/cancel",
    response_model=JobRead,
    summary="Cancel a queued job, or ask a running one to stop",
    responses=problem_responses(401, 403, 404, 409),
)
async def cancel_job(
    job_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> JobRead:
    job = await service.cancel_job(session, principal, job_id=job_id)
    return JobRead.model_validate(job)


@admin_router.get(
    "/jobs",
    response_model=Page[JobRead],
    summary="Every job, dead letters first (moderator or admin)",
    responses=problem_responses(400, 401, 403),
)
async def list_all_jobs(
    request: Request,
    response: Response,
    session: SessionDep,
    _principal: ModeratorPrincipal,
    params: PageParamsDep,
    codec: CursorCodecDep,
    status: StatusFilter = None,
    kind: KindFilter = None,
) -> Page[JobRead]:
    result = await service.list_all_jobs(
        session, status=status, kind=kind, params=params, codec=codec
    )
    return page_response(
        request, response, result, [JobRead.model_validate(job) for job in result.items]
    )
