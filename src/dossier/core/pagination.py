"""The one pagination helper: offset pages and signed keyset cursors, with sorting.

A list endpoint takes :data:`PageParamsDep` (``limit``, ``page``, ``cursor``) and a ``sort``
value, its repository builds a ``select`` with the visibility and filters applied and calls
:func:`paginate` with a :class:`Sorting` (the allowed sort fields) and the filters as a dict.

- ``page`` given → offset mode: ``page`` and ``total`` are returned, ``next_cursor`` is null.
- otherwise → keyset mode over ``(sort field, id)``: ``next_cursor`` is an opaque token, HMAC
  signed and bound to the sort, the filters and the list it came from; ``page`` and ``total``
  are null. Keyset pages stay exact while rows are inserted or deleted between requests.

Lists whose order has no keyset (an aggregate ordered by a count, such as the tag counts) take
:data:`OffsetPageParamsDep` (``limit``, ``page``, default 1) and :func:`paginate_rows`: offset
pages of rows with ``total``, ``next_cursor`` always null.

``NULL`` sorts as the greatest value (PostgreSQL's default, so plain B-tree indexes serve both
directions): last when ascending, first when descending.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, TypeDecorator, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dossier.core.errors import BadRequest
from dossier.core.security.tokens import derive_key

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 2048
CURSOR_KEY_LABEL = "cursor"
_SIGNATURE_BYTES = 16

T = TypeVar("T")


class InvalidCursor(BadRequest):
    code = "invalid_cursor"
    default_detail = "The cursor is invalid, was tampered with, or belongs to another query."


class ConflictingPagination(BadRequest):
    code = "conflicting_pagination"
    default_detail = "Send either `page` or `cursor`, not both."


class InvalidSort(BadRequest):
    code = "invalid_sort"
    default_detail = "This field cannot be sorted on."


class Page(BaseModel, Generic[T]):
    """One page of a list. Fields that do not apply to the mode are null."""

    items: list[T]
    limit: int = Field(description="The page size used.")
    next_cursor: str | None = Field(
        default=None, description="Keyset mode: pass as `cursor` for the next page; null at end."
    )
    page: int | None = Field(default=None, description="Offset mode: this page's number.")
    total: int | None = Field(default=None, description="Offset mode: rows matching the filters.")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    page: int | None = None
    cursor: str | None = None


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1-100.")]


async def page_params(
    limit: LimitQuery = DEFAULT_LIMIT,
    page: Annotated[
        int | None,
        Query(ge=1, le=1_000_000, description="Offset mode: the page number (returns `total`)."),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="Keyset mode: the `next_cursor` of the previous page.",
        ),
    ] = None,
) -> PageParams:
    if page is not None and cursor is not None:
        raise ConflictingPagination()
    return PageParams(limit=limit, page=page, cursor=cursor)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


async def offset_page_params(
    limit: LimitQuery = DEFAULT_LIMIT,
    page: Annotated[
        int, Query(ge=1, le=1_000_000, description="The page number (the answer has `total`).")
    ] = 1,
) -> PageParams:
    """For lists that only page by offset (see :func:`paginate_rows`)."""
    return PageParams(limit=limit, page=page)


OffsetPageParamsDep = Annotated[PageParams, Depends(offset_page_params)]


@dataclass(frozen=True, slots=True)
class SortOrder:
    """A parsed ``sort`` value: one field and its direction (``id`` always breaks ties)."""

    field: str
    descending: bool

    @property
    def token(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class Sorting:
    """The sort fields a resource offers, by public name, and its id column."""

    fields: Mapping[str, InstrumentedAttribute[Any]]
    id_column: InstrumentedAttribute[Any]
    default: str

    def parse(self, value: str | None) -> SortOrder:
        raw = (value or self.default).strip()
        descending = raw.startswith("-")
        name = raw[1:] if descending else raw
        if name not in self.fields:
            allowed = ", ".join(sorted(self.fields))
            raise InvalidSort(
                f"Cannot sort by {name!r}; use one of: {allowed} (prefix - to reverse)."
            )
        return SortOrder(field=name, descending=descending)

    def choices(self) -> list[str]:
        """Every accepted ``sort`` value, for a resource's enum."""
        return [variant for name in self.fields for variant in (name, f"-{name}")]


class CursorCodec:
    """Signs and checks cursor tokens. One per app (the key is derived once)."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, CURSOR_KEY_LABEL)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, data: Mapping[str, Any]) -> str:
        payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        token = self._sign(payload) + payload
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decode(self, token: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor() from exc
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if len(signature) != _SIGNATURE_BYTES or not hmac.compare_digest(
            signature, self._sign(payload)
        ):
            raise InvalidCursor()
        try:
            data = json.loads(payload)
        except ValueError as exc:  # cannot happen with a valid signature; be safe anyway
            raise InvalidCursor() from exc
        if not isinstance(data, dict):
            raise InvalidCursor()
        return data


async def cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec | None = getattr(request.app.state, "cursor_codec", None)
    if codec is None:
        codec = CursorCodec(request.app.state.settings.signing_secret)
        request.app.state.cursor_codec = codec
    return codec


CursorCodecDep = Annotated[CursorCodec, Depends(cursor_codec)]


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    """What :func:`paginate` found; endpoints turn it into a :class:`Page` response."""

    items: Sequence[T]
    limit: int
    next_cursor: str | None = None
    page: int | None = None
    total: int | None = None

    @property
    def has_next(self) -> bool:
        if self.page is not None:
            return self.total is not None and self.page * self.limit < self.total
        return self.next_cursor is not None


def _fingerprint(filters: Mapping[str, Any], scope: str) -> str:
    canonical = json.dumps({"f": filters, "s": scope}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _load(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    python_type = column_type.python_type
    try:
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        if python_type in (int, str, float, bool) and isinstance(value, python_type):
            return value
    except (TypeError, ValueError) as exc:
        raise InvalidCursor() from exc
    raise InvalidCursor()


def _after(
    column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    value: Any,
    last_id: Any,
    *,
    descending: bool,
) -> ColumnElement[bool]:
    """Rows strictly after ``(value, last_id)`` in the order ``(column NULLS as +∞, id)``."""
    if descending:
        if value is None:
            return or_(column.is_not(None), and_(column.is_(None), id_column < last_id))
        return or_(column < value, and_(column == value, id_column < last_id))
    if value is None:
        return and_(column.is_(None), id_column > last_id)
    return or_(column > value, and_(column == value, id_column > last_id), column.is_(None))


def order_by(sorting: Sorting, order: SortOrder) -> list[ColumnElement[Any]]:
    """The ORDER BY of a list: the sort field (NULL as greatest), then the id."""
    column = sorting.fields[order.field]
    if order.descending:
        return [column.desc().nulls_first(), sorting.id_column.desc()]
    return [column.asc().nulls_last(), sorting.id_column.asc()]


async def paginate(
    session: AsyncSession,
    statement: Select[T],
    *,
    params: PageParams,
    sorting: Sorting,
    order: SortOrder,
    codec: CursorCodec,
    filters: Mapping[str, Any],
    scope: str,
) -> PageResult[T]:
    """Run one page of ``statement`` (one entity per row) in the requested mode.

    ``filters`` are the filter values of the query and ``scope`` names the list (for example
    its path): a cursor is only accepted for the same sort, filters and scope.
    """
    column = sorting.fields[order.field]
    id_column = sorting.id_column
    ordering = order_by(sorting, order)
    bound = _fingerprint(filters, scope)

    if params.page is not None:
        total = await _count(session, statement)
        offset = (params.page - 1) * params.limit
        rows = await session.scalars(
            statement.order_by(*ordering).offset(offset).limit(params.limit)
        )
        return PageResult(items=list(rows), limit=params.limit, page=params.page, total=total)

    if params.cursor is not None:
        data = codec.decode(params.cursor)
        if data.get("b") != bound or data.get("o") != order.token:
            raise InvalidCursor("The cursor belongs to another sort or other filters.")
        if "k" not in data or "i" not in data:
            raise InvalidCursor()
        value = _load(data["k"], column)
        last_id = _load(data["i"], id_column)
        statement = statement.where(
            _after(column, id_column, value, last_id, descending=order.descending)
        )
    rows_list = list(await session.scalars(statement.order_by(*ordering).limit(params.limit + 1)))
    next_cursor = None
    if len(rows_list) > params.limit:
        rows_list = rows_list[: params.limit]
        last = rows_list[-1]
        next_cursor = codec.encode(
            {
                "b": bound,
                "o": order.token,
                "k": _dump(getattr(last, column.key)),
                "i": _dump(getattr(last, id_column.key)),
            }
        )
    return PageResult(items=rows_list, limit=params.limit, next_cursor=next_cursor)


async def _count(session: AsyncSession, statement: Select[*tuple[Any, ...]]) -> int:
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    return int((await session.execute(count)).scalar_one())


async def paginate_rows(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], *, params: PageParams
) -> PageResult[Any]:
    """One offset page of ``statement``'s rows, with ``total``.

    For lists that have no keyset to page by, such as aggregates ordered by a count:
    ``statement`` carries its own ``ORDER BY``, which must end in a unique column so that
    pages neither repeat nor skip rows."""
    page = params.page or 1
    total = await _count(session, statement)
    rows = await session.execute(statement.offset((page - 1) * params.limit).limit(params.limit))
    return PageResult(items=rows.all(), limit=params.limit, page=page, total=total)


def next_link(request: Request, result: PageResult[Any]) -> str | None:
    """The URL of the next page (same query with ``page`` or ``cursor`` advanced)."""
    if not result.has_next:
        return None
    if result.page is not None:
        url = request.url.remove_query_params("cursor").include_query_params(page=result.page + 1)
    else:
        url = request.url.remove_query_params("page").include_query_params(
            cursor=result.next_cursor
        )
    return str(url)


def set_link_header(response: Response, request: Request, result: PageResult[Any]) -> None:
    """Add ``Link: <…>; rel="next"`` when there is a next page."""
    link = next_link(request, result)
    if link is not None:
        response.headers.append("Link", f'<{link}>; rel="next"')


def page_response(
    request: Request,
    response: Response,
    result: PageResult[Any],
    items: list[T],
) -> Page[T]:
    """The response body for ``result`` with its items already converted; sets ``Link``."""
    set_link_header(response, request, result)
    return Page(
        items=items,
        limit=result.limit,
        next_cursor=result.next_cursor,
        page=result.page,
        total=result.total,
    )
