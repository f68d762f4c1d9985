"""Structured logs: one JSON object per line, request id bound from context, secrets redacted."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# The id of the request being handled, set by the edge middleware. A context variable
# of its own: setting and resetting it costs a fraction of structlog's bind/clear pair, and
# asyncio copies it into every task a request starts.
REQUEST_ID: ContextVar[str | None] = ContextVar("dossier_request_id", default=None)

# Keys whose values never reach a log line, whatever their nesting.
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|authorization|cookie|api[_-]?key|credential|signature|hash)",
    re.IGNORECASE,
)
# Bearer tokens and JWT-looking strings inside free text.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


# Text that can match neither pattern above (checked with one search instead of two
# substitutions: most logged strings are routes, ids and names).
_MAYBE_SECRET_TEXT = re.compile(r"(?i)bearer|basic|eyJ")


def _redact_text(value: str) -> str:
    if not _MAYBE_SECRET_TEXT.search(value):
        return value
    value = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return _JWT.sub(REDACTED, value)


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    # Log keys are mostly the code's own, a small set: remembered, not searched each time.
    return _SECRET_KEY.search(key) is not None


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and _is_secret_key(key)
                else _redact(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _redact_text(value)
    return value


def add_request_id(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current request's id, on every line logged while it runs."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def redact_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop values of secret-looking keys and tokens inside text."""
    for key in list(event_dict):
        if key in ("event", "timestamp", "level", "logger"):
            if key == "event" and isinstance(event_dict[key], str):
                event_dict[key] = _redact_text(event_dict[key])
            continue
        if _is_secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def _redact_exception(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    exc = event_dict.get("exception")
    if isinstance(exc, str):
        event_dict["exception"] = _redact_text(exc)
    return event_dict


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    stream: TextIO | None = None,
    *,
    trace_context: bool = False,
) -> None:
    """Route structlog and the standard library (uvicorn, alembic, …) into one formatter."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    if trace_context:
        from dossier.core.tracing import add_trace_context

        shared.append(add_trace_context)
    renderer: Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer()

    structlog.configure(
        processors=[
            # First: a line below the level (quiet health checks) costs nothing more.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_exception,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    # No line shows where it was logged from: skip the frame walk the standard library does
    # for every record to find its caller (the documented switch, Logging HOWTO,
    # "Optimization"; a fifth of an access line's cost).
    logging._srcfile = None
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log duplicates ours (which has the request id and route template).
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False
    # httpx logs every outgoing URL at INFO; URLs (webhook targets, signed links) may carry
    # secrets, and our own code logs what matters about outbound calls.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def scrub_mapping(values: MutableMapping[str, Any]) -> dict[str, Any]:
    """A redacted copy of a mapping, for code that logs structured input."""
    redacted = _redact(dict(values))
    assert isinstance(redacted, dict)
    return redacted
