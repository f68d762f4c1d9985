"""What the jobs routes ask for."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from dossier.auth.dependencies import CurrentPrincipal
from dossier.core.security.tokens import derive_key
from dossier.db.session import SessionDep
from dossier.jobs_api import service
from dossier.models.job import Job


async def get_visible_job(
    job_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> Job:
    return await service.get_job(session, principal, job_id=job_id)


VisibleJob = Annotated[Job, Depends(get_visible_job)]


def get_cursor_key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "jobs_cursor_key", None)
    if key is None:
        key = derive_key(request.app.state.settings.signing_secret, "jobs-cursor")
        request.app.state.jobs_cursor_key = key
    return key


CursorKey = Annotated[bytes, Depends(get_cursor_key)]
