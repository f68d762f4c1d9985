"""Job kinds: a handler per kind with its retry policy and time limit."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dossier.jobs.errors import UnknownJobKind

if TYPE_CHECKING:
    from dossier.config import Settings
    from dossier.db.engine import Database
    from dossier.jobs.context import JobContext

Handler = Callable[["JobContext", dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    max_attempts: int | None = None
    timeout_seconds: float | None = None
    backoff_base_seconds: float | None = None
    backoff_max_seconds: float | None = None


_KINDS: dict[str, JobKind] = {}


def job_handler(
    kind: str,
    *,
    max_attempts: int | None = None,
    timeout_seconds: float | None = None,
    backoff_base_seconds: float | None = None,
    backoff_max_seconds: float | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``kind``; unset values fall back to ``DOSSIER_JOB_*`` settings."""
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(handler: Handler) -> Handler:
        existing = _KINDS.get(kind)
        if existing is not None and existing.handler is not handler:
            # Re-importing the same module is harmless; two handlers for one kind is a bug.
            same = (
                existing.handler.__module__ == handler.__module__
                and existing.handler.__qualname__ == handler.__qualname__
            )
            if not same:
                raise ValueError(f"job kind {kind!r} is already registered")
        _KINDS[kind] = JobKind(
            name=kind,
            handler=handler,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            backoff_base_seconds=backoff_base_seconds,
            backoff_max_seconds=backoff_max_seconds,
        )
        return handler

    return register


def get_kind(kind: str) -> JobKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownJobKind(f"no handler is registered for job kind {kind!r}") from None


def registered_kinds() -> list[str]:
    return sorted(_KINDS)


Housekeeping = Callable[["Database", "Settings"], Awaitable[Any]]
_HOUSEKEEPING: dict[str, Housekeeping] = {}


def housekeeping(name: str) -> Callable[[Housekeeping], Housekeeping]:
    """Register a periodic clean-up that every worker process runs on the retention schedule
    (``DOSSIER_JOB_PURGE_INTERVAL``). Domain packages register theirs from the same modules as
    their job handlers; several workers may run one at once, so it must be idempotent."""

    def register(function: Housekeeping) -> Housekeeping:
        _HOUSEKEEPING[name] = function
        return function

    return register


def registered_housekeeping() -> list[tuple[str, Housekeeping]]:
    return sorted(_HOUSEKEEPING.items())


def import_handler_modules(modules: Iterable[str]) -> None:
    """Import the modules whose ``@job_handler`` decorators register kinds."""
    for module in modules:
        importlib.import_module(module)
