"""RFC 9457 problem details: the one error type hierarchy and the handlers that render it.

Services raise :class:`DomainError` subclasses (never HTTP exceptions); each carries its HTTP
status and a stable machine-readable ``code``. Everything that reaches a client as an error is
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, ``instance``,
``code`` and ``request_id`` (422 adds ``errors``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:dossier:problem:"

logger = structlog.get_logger("dossier.errors")

# Stable codes for errors raised by the framework rather than by our services.
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def code_for_status(status: int) -> str:
    return _STATUS_CODES.get(status, f"http_{status}")


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class DomainError(Exception):
    """Base of every error a service raises. Subclasses set ``status`` and ``code``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str | None] = None
    default_detail: ClassVar[str] = "The request could not be processed."
    # Most errors undo the unit of work. A few record a security decision that must outlive
    # the refusal (a revoked refresh-token family after reuse): those set this.
    persist_changes: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class BadRequest(DomainError):
    status = 400
    code = "bad_request"
    default_detail = "The request is malformed."


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_detail = "Authentication is required."

    def __init__(self, detail: str | None = None, *, error: str | None = None, **kw: Any) -> None:
        challenge = "Bearer"
        if error:
            challenge += f' error="{error}"'
        headers = {"WWW-Authenticate": challenge, **kw.pop("headers", {})}
        super().__init__(detail, headers=headers, **kw)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_detail = "You are not allowed to do this."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_detail = "The resource does not exist."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    default_detail = "The resource has changed since you last read it."


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    default_detail = "The request body is too large."


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    default_detail = "The content type is not supported."


class UnprocessableContent(DomainError):
    status = 422
    code = "validation_failed"
    default_detail = "The request is well-formed but cannot be processed."


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition_required"
    default_detail = "This request must be conditional (send If-Match)."


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"
    default_detail = "Too many requests; slow down."


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    default_detail = "The service is temporarily unavailable."


def _request_id(scope: Mapping[str, Any]) -> str | None:
    state = scope.get("state") or {}
    value = state.get("request_id") if isinstance(state, Mapping) else None
    return value if isinstance(value, str) else None


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    request_id: str | None,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title or status_title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
    }
    if extra:
        for key, value in extra.items():
            body.setdefault(key, value)
    return body


def problem_response(
    scope: Mapping[str, Any],
    *,
    status: int,
    code: str | None = None,
    detail: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body = problem_body(
        status=status,
        code=code or code_for_status(status),
        detail=detail or status_title(status),
        instance=str(scope.get("path", "")),
        request_id=_request_id(scope),
        title=title,
        extra=extra,
    )
    return Response(
        content=json.dumps(body, separators=(",", ":"), default=str).encode(),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    for error in errors:
        cleaned.append(
            {
                "loc": [part for part in error.get("loc", ()) if isinstance(part, str | int)],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return cleaned


async def _domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_response(
        request.scope,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        title=exc.title,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(request.scope, status=exc.status_code, detail=detail, headers=headers)


async def _validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            request.scope,
            status=400,
            code="malformed_json",
            detail="The request body is not valid JSON.",
        )
    return problem_response(
        request.scope,
        status=422,
        code="validation_failed",
        detail="The request failed validation; see `errors`.",
        extra={"errors": _clean_errors(errors)},
    )


async def _integrity_error_handler(request: Request, exc: Exception) -> Response:
    # A race that a service's own check could not see (two inserts of one unique value).
    # The database's message names tables and SQL: log it, never send it.
    logger.warning("integrity_error", error_class=type(exc).__name__)
    return problem_response(
        request.scope,
        status=409,
        code="conflict",
        detail="The request conflicts with existing data.",
    )


def _is_data_error(exc: Exception) -> bool:
    if isinstance(exc, DataError):
        return True
    # asyncpg errors reach SQLAlchemy as a plain DBAPIError; SQLSTATE class 22 is
    # "data exception" (invalid text, numeric out of range, …).
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


async def _data_error_handler(request: Request, exc: Exception) -> Response:
    # The database refused a value that passed validation (for example a NUL character in
    # text on PostgreSQL, or a number out of a column's range): the input is at fault.
    if not _is_data_error(exc):
        logger.error(
            "unhandled_exception",
            exc_info=exc,
            method=request.method,
            route=getattr(request.scope.get("route"), "path", "<unmatched>"),
        )
        return problem_response(request.scope, status=500, detail="An unexpected error occurred.")
    logger.warning("data_error", error_class=type(exc).__name__)
    return problem_response(
        request.scope,
        status=422,
        code="invalid_value",
        detail="A value in the request cannot be stored.",
    )


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(IntegrityError, _integrity_error_handler)
    app.add_exception_handler(DBAPIError, _data_error_handler)
