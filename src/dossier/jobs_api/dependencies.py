"""What the jobs routes ask for."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from dossier.auth.dependencies import CurrentPrincipal
from dossier.db.session import SessionDep
from dossier.jobs_api import service
from dossier.models.job import Job


async def get_visible_job(
    job_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> Job:
    return await service.get_job(session, principal, job_id=job_id)


VisibleJob = Annotated[Job, Depends(get_visible_job)]
