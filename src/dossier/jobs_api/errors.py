"""Errors of the jobs API."""

from __future__ import annotations

from dossier.core.errors import Conflict, NotFound


class JobNotFound(NotFound):
    code = "job_not_found"
    default_detail = "The job does not exist."


class JobNotRetryable(Conflict):
    code = "job_not_retryable"
    default_detail = "Only failed or dead jobs can be retried."


class JobNotCancellable(Conflict):
    code = "job_not_cancellable"
    default_detail = "The job has already finished."
