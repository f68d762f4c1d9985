"""Offset pagination for the user list.

A stand-in until the shared ``core/pagination.py`` (page + signed cursor) lands: the response
already has the shared shape ``{items, limit, next_cursor, page, total}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

MAX_LIMIT = 100
DEFAULT_LIMIT = 20

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1 to 100).")]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number.")]


def add_offset_next_link(
    request: Request, response: Response, *, page: int, limit: int, total: int
) -> None:
    """``Link: <…>; rel="next"`` when another page follows."""
    if page * limit < total:
        url = request.url.include_query_params(page=page + 1, limit=limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
