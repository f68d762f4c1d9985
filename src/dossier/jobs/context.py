"""What a handler gets: its job's identity, progress reporting, cooperative cancel, a CPU pool."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.jobs import queue
from dossier.jobs.errors import JobCancelled

T = TypeVar("T")


class JobContext:
    def __init__(
        self,
        *,
        job: queue.ClaimedJob,
        worker_id: str,
        settings: Settings,
        database: Database,
        cpu_executor: Callable[[], Executor],
    ) -> None:
        self._job = job
        self._worker_id = worker_id
        self._cpu_executor = cpu_executor
        self.settings = settings
        self.database = database
        self.cancel_requested = False
        self.lease_lost = False

    @property
    def job_id(self) -> uuid.UUID:
        return self._job.id

    @property
    def kind(self) -> str:
        return self._job.kind

    @property
    def attempt(self) -> int:
        return self._job.attempt

    @property
    def max_attempts(self) -> int:
        return self._job.max_attempts

    @property
    def owner_id(self) -> uuid.UUID | None:
        return self._job.owner_id

    async def progress(self, percent: int, message: str | None = None) -> None:
        """Persist progress (0 to 100) and a short message; readers see it at once."""
        percent = max(0, min(100, int(percent)))
        async with self.database.writer_sessionmaker() as session, session.begin():
            held = await queue.set_progress(
                session,
                worker_id=self._worker_id,
                key=self._job.key,
                percent=percent,
                message=message[:500] if message else None,
                now=utcnow(),
            )
        if not held:
            self.lease_lost = True

    def raise_if_cancelled(self) -> None:
        """Stop here when a cancel was requested (the job ends ``cancelled``)."""
        if self.cancel_requested:
            raise JobCancelled("cancel requested")

    async def run_cpu(self, function: Callable[..., T], /, *args: Any) -> T:
        """Run a picklable function in the worker's process pool; the event loop stays free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cpu_executor(), function, *args)
