"""The job engine: durable background jobs on the SQL ``jobs`` table.

Services call :func:`enqueue` inside their unit of work; handlers are registered with
:func:`job_handler`; workers (:class:`Worker`) claim, run and complete jobs under leases.
This package never imports domain packages.
"""

from dossier.jobs.context import JobContext
from dossier.jobs.enqueue import enqueue, enqueue_many
from dossier.jobs.errors import (
    JobCancelled,
    JobError,
    PermanentJobError,
    RetryableJobError,
    UnknownJobKind,
)
from dossier.jobs.registry import (
    JobKind,
    get_kind,
    housekeeping,
    import_handler_modules,
    job_handler,
    registered_kinds,
)
from dossier.jobs.worker import Worker

__all__ = [
    "JobCancelled",
    "JobContext",
    "JobError",
    "JobKind",
    "PermanentJobError",
    "RetryableJobError",
    "UnknownJobKind",
    "Worker",
    "enqueue",
    "enqueue_many",
    "get_kind",
    "housekeeping",
    "import_handler_modules",
    "job_handler",
    "registered_kinds",
]
