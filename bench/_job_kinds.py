"""The no-op job kind the job benchmark drains (imported by its worker processes)."""

from __future__ import annotations

from typing import Any

from dossier.jobs import JobContext, job_handler


@job_handler("bench.noop", max_attempts=3)
async def noop(ctx: JobContext, payload: dict[str, Any]) -> None:
    return None
