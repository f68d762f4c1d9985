"""How a handler says why it failed; the engine classifies every other exception as retryable."""

from __future__ import annotations


class JobError(Exception):
    """Base of the errors a handler raises on purpose."""


class RetryableJobError(JobError):
    """A transient failure (timeout, unavailable dependency): back off and try again."""


class PermanentJobError(JobError):
    """The job can never succeed (bad input): fail at once and keep the reason."""


class JobCancelled(JobError):
    """Raised by :meth:`JobContext.raise_if_cancelled` once a cancel was requested."""


class UnknownJobKind(LookupError):
    """``enqueue`` was called with a kind no module registered (a programming error)."""
