"""Conditional requests (RFC 9110 §13): strong ETags, ``If-None-Match`` and ``If-Match``.

- :func:`etag_for` makes a strong validator from an object's id and version counter.
- A GET answers 304 when :func:`not_modified` says the client's copy is current
  (:func:`not_modified_response` builds it, no body).
- A write calls :func:`check_if_match` with the current ETag: a stale ``If-Match`` raises
  :class:`~dossier.core.errors.PreconditionFailed` (412); a missing one raises
  :class:`~dossier.core.errors.PreconditionRequired` (428) when the setting
  ``DOSSIER_REQUIRE_IF_MATCH`` asks for it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from dossier.core.errors import PreconditionFailed, PreconditionRequired

PRIVATE_NO_CACHE = "private, no-cache"

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description="ETag(s) the write expects; 412 when the resource has changed.",
    ),
]
IfNoneMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=1024,
        description="ETag(s) the client holds; 304 when unchanged.",
    ),
]


def etag_for(object_id: uuid.UUID, version: int) -> str:
    """A strong ETag: changes with every write (the version counter) of the object."""
    return f'"{object_id.hex}-{version}"'


def _entity_tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison: ``W/"x"`` matches ``"x"``."""
    if not if_none_match:
        return False
    tags = _entity_tags(if_none_match)
    return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}


def check_if_match(if_match: str | None, etag: str, *, required: bool = False) -> None:
    """``If-Match`` uses the strong comparison: a weak tag never matches."""
    if if_match is None or not if_match.strip():
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag you last read to change this resource."
            )
        return
    tags = _entity_tags(if_match)
    if "*" in tags:
        return
    if etag not in tags:
        raise PreconditionFailed(
            "The resource has changed since you read it; fetch it again and retry.",
            extra={"current_etag": etag},
        )


def if_match_required(request: Request) -> bool:
    """Whether the service setting asks for ``If-Match`` on every conditional write."""
    return bool(request.app.state.settings.require_if_match)


async def _require_if_match(request: Request) -> bool:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool.
    return if_match_required(request)


RequireIfMatch = Annotated[bool, Depends(_require_if_match)]


def set_etag(response: Response, etag: str, *, cache_control: str = PRIVATE_NO_CACHE) -> None:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control


def not_modified_response(etag: str, *, cache_control: str = PRIVATE_NO_CACHE) -> Response:
    """304 Not Modified: no body, the validator and caching headers only."""
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})
