"""``Idempotency-Key`` for creating POSTs (IETF httpapi idempotency-key draft, Stripe's practice).

Use: ``router = APIRouter(route_class=IdempotentRoute)``. Every POST route of that router then
accepts the header (documented in OpenAPI with its 400/409/422 problems):

- keys are scoped per authenticated user and kept ``DOSSIER_IDEMPOTENCY_TTL_HOURS`` (24 h);
- the first request stores a fingerprint of method, path, query and body, runs, and its
  response (status, headers, body) is stored;
- a retry with the same key and the same request replays that response with
  ``Idempotent-Replayed: true``; with another request → 422 ``idempotency_key_reused``;
  while the first is still running → 409 ``idempotency_key_in_use`` (``Retry-After``);
- an empty or over-255-character key → 400 ``invalid_idempotency_key``.

The key is claimed in its own short transaction (so concurrent retries see it at once) before
the route's unit of work runs; the outcome is written in the route's own unit of work, so it
commits atomically with what the request created. Errors raised by the route (validation,
domain errors), 5xx answers and 401/403/409/429 answers are not kept: the key is released and a
retry runs again. A process that dies mid-request leaves the key locked until
``DOSSIER_IDEMPOTENCY_LOCK_SECONDS`` pass; as its transaction rolled back, a retry then runs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Annotated, Any

import structlog
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from dossier.core.clock import utcnow
from dossier.core.errors import BadRequest, Conflict, UnprocessableContent
from dossier.core.openapi import problem_responses
from dossier.core.security.tokens import InvalidToken
from dossier.db.engine import Database
from dossier.models.idempotency import IdempotencyRecord

logger = structlog.get_logger("dossier.idempotency")

HEADER = "Idempotency-Key"
# A non-JSON body (an upload) is spooled while it is fingerprinted: in memory up to this size,
# then in a temporary file; the route then reads it back in chunks of this size.
SPOOL_MEMORY_BYTES = 1024 * 1024
SPOOL_CHUNK_BYTES = 64 * 1024
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
IN_FLIGHT = "in_flight"
COMPLETED = "completed"
# Answers that say "not now" or "not you" rather than "this is the outcome": never replayed.
_NOT_STORED = frozenset({401, 403, 408, 409, 425, 429})
_HEADERS_NOT_STORED = frozenset(
    {"content-length", "date", "server", "set-cookie", "x-request-id", "connection"}
)


class InvalidIdempotencyKey(BadRequest):
    code = "invalid_idempotency_key"
    default_detail = f"{HEADER} must be 1-{MAX_KEY_LENGTH} characters."


class IdempotencyKeyReused(UnprocessableContent):
    code = "idempotency_key_reused"
    default_detail = f"This {HEADER} was already used for a different request."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    default_detail = f"A request with this {HEADER} is still being processed; retry shortly."


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def replay(self) -> Response:
        response = Response(content=self.body, status_code=self.status)
        # Response() set its own content-length; the stored headers carry the rest.
        for name, value in self.headers:
            response.headers.append(name, value)
        response.headers[REPLAYED_HEADER] = "true"
        return response


def validate_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey()
    return key


def _request_digest(method: str, path: str, query: str) -> Any:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        digest.update(part + b"\n")
    return digest


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """JSON bodies are compared by content, so key order and whitespace do not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = _request_digest(method, path, query)
    digest.update(canonical)
    return str(digest.hexdigest())


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def _spool_body(request: Request, spool: IO[bytes]) -> str:
    """Stream a (possibly large, non-JSON) body into ``spool`` — memory up to
    ``SPOOL_MEMORY_BYTES``, then a temporary file — and fingerprint it on the way, byte for
    byte. The body limit still applies while it streams."""
    digest = _request_digest(request.method, request.url.path, request.url.query)
    async for chunk in request.stream():
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return str(digest.hexdigest())


def _replaying(request: Request, spool: IO[bytes]) -> Request:
    """A request for the route that reads its body from ``spool``, then the real channel
    (so a client disconnect is still seen)."""
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return await request.receive()
        chunk = spool.read(SPOOL_CHUNK_BYTES)
        done = len(chunk) < SPOOL_CHUNK_BYTES
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return Request(request.scope, receive=receive)


class IdempotencyStore:
    """Claims, completes and releases keys, each in its own short transaction."""

    def __init__(self, database: Database, *, ttl: timedelta, lock: timedelta) -> None:
        self.database = database
        self.ttl = ttl
        self.lock = lock

    def _insert(self, session: AsyncSession) -> Any:
        if session.get_bind().dialect.name == "postgresql":
            return pg_insert(IdempotencyRecord)
        return sqlite_insert(IdempotencyRecord)

    async def claim(
        self, *, user_id: uuid.UUID, key: str, method: str, path: str, fingerprint: str
    ) -> StoredResponse | None:
        """Claim ``key`` for this request; a stored response to replay, or None to run it."""
        async with self.database.writer_sessionmaker() as session, session.begin():
            now = utcnow()
            values = {
                "user_id": user_id,
                "key": key,
                "method": method,
                "path": path,
                "fingerprint": fingerprint,
                "state": IN_FLIGHT,
                "created_at": now,
                "locked_until": now + self.lock,
                "expires_at": now + self.ttl,
            }
            inserted = await session.execute(
                self._insert(session)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["user_id", "key"])
                .returning(IdempotencyRecord.key)
            )
            if inserted.scalar_one_or_none() is not None:
                return None
            record = await session.get(
                IdempotencyRecord, (user_id, key), with_for_update=True, populate_existing=True
            )
            if record is None or record.expires_at <= now:
                # Expired (or deleted since the insert): the key starts a new life.
                if record is not None:
                    await session.delete(record)
                    await session.flush()
                session.add(IdempotencyRecord(**values))
                return None
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if record.state == COMPLETED and record.response_status is not None:
                return StoredResponse(
                    status=record.response_status,
                    headers=[(str(n), str(v)) for n, v in record.response_headers or []],
                    body=record.response_body or b"",
                )
            if record.locked_until > now:
                retry_after = max(1, int((record.locked_until - now).total_seconds()) // 10)
                raise IdempotencyKeyInUse(headers={"Retry-After": str(min(retry_after, 5))})
            # The first request died without an outcome: this retry takes the key over.
            logger.warning("idempotency_key_taken_over", key_hash=_key_hash(key))
            record.locked_until = now + self.lock
            return None

    async def complete(
        self,
        *,
        user_id: uuid.UUID,
        key: str,
        response: Response,
        session: AsyncSession | None = None,
    ) -> None:
        """Store the outcome: in ``session`` when given, else in a transaction of its own."""
        headers = [
            [name, value]
            for name, value in response.headers.items()
            if name.lower() not in _HEADERS_NOT_STORED
        ]
        statement = (
            update(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            .values(
                state=COMPLETED,
                response_status=response.status_code,
                response_headers=headers,
                response_body=bytes(response.body),
            )
        )
        if session is not None:
            await session.execute(statement)
            return
        async with self.database.writer_sessionmaker() as own, own.begin():
            await own.execute(statement)

    async def release(self, *, user_id: uuid.UUID, key: str) -> None:
        async with self.database.writer_sessionmaker() as session, session.begin():
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.state == IN_FLIGHT,
                )
            )


async def purge_expired(session: AsyncSession) -> int:
    """Delete keys past their lifetime; returns how many. Run it periodically."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _key_hash(key: str) -> str:
    # Keys may be guessable or carry client data: log a digest only.
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _caller(request: Request) -> uuid.UUID | None:
    """The user a bearer token names (signature checked); the route itself still authenticates."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = request.app.state.token_codec.verify(token.strip())
    except InvalidToken:
        return None
    subject: uuid.UUID = claims.subject
    return subject


def _store(request: Request) -> IdempotencyStore:
    settings = request.app.state.settings
    return IdempotencyStore(
        request.app.state.database,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        lock=timedelta(seconds=settings.idempotency_lock_seconds),
    )


async def run_idempotently(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    raw_key = request.headers.get(HEADER)
    if raw_key is None:
        return await handler(request)
    key = validate_key(raw_key)
    user_id = _caller(request)
    if user_id is None:
        return await handler(request)  # the route answers 401
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        if _is_json(request):
            body = await request.body()  # small; cached on the request: the route reads it again
            fingerprint = request_fingerprint(
                request.method, request.url.path, request.url.query, body
            )
        else:
            # Uploads: fingerprinted while streaming, never held in memory whole.
            fingerprint = await _spool_body(request, spool)
            request = _replaying(request, spool)
        return await _run_claimed(
            request, handler, user_id=user_id, key=key, fingerprint=fingerprint
        )


async def _run_claimed(
    request: Request,
    handler: Callable[[Request], Awaitable[Response]],
    *,
    user_id: uuid.UUID,
    key: str,
    fingerprint: str,
) -> Response:
    store = _store(request)
    stored = await store.claim(
        user_id=user_id,
        key=key,
        method=request.method,
        path=request.url.path,
        fingerprint=fingerprint,
    )
    if stored is not None:
        return stored.replay()

    outcome: dict[str, Response | bool] = {}

    async def after_unit_of_work(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        # Runs after the route's unit of work committed or rolled back (the function-scoped
        # exit stack unwinds last-in first-out, and this was pushed before the session).
        response = outcome.get("response")
        if exc_type is not None or not isinstance(response, Response):
            await store.release(user_id=user_id, key=key)
        elif not outcome.get("stored"):
            if _storable(response):
                await store.complete(user_id=user_id, key=key, response=response)
            else:
                await store.release(user_id=user_id, key=key)
        return False

    stack = request.scope.get("fastapi_function_astack")
    if not isinstance(stack, AsyncExitStack):  # pragma: no cover - FastAPI always sets it
        raise RuntimeError("IdempotentRoute needs FastAPI's function-scoped exit stack")
    stack.push_async_exit(after_unit_of_work)
    response = await handler(request)
    outcome["response"] = response
    session = getattr(request.state, "unit_of_work", None)
    if isinstance(session, AsyncSession) and _storable(response):
        # Stored in the route's own transaction: the outcome commits with what it created.
        await store.complete(user_id=user_id, key=key, response=response, session=session)
        outcome["stored"] = True
    return response


def _storable(response: Response) -> bool:
    if response.status_code >= 500 or response.status_code in _NOT_STORED:
        return False
    return isinstance(getattr(response, "body", None), bytes | memoryview)


async def idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description=(
                "Makes the request safe to retry: a repeat with the same key replays the first "
                "response (`Idempotent-Replayed: true`) for 24 hours. 1-255 characters."
            ),
            # Documented only: the route checks it itself to answer 400 (not 422).
            json_schema_extra={
                "minLength": 1,
                "maxLength": MAX_KEY_LENGTH,
                "pattern": r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
            },
        ),
    ] = None,
) -> None:
    """Documents the header; :class:`IdempotentRoute` does the work before dependencies run."""


class IdempotentRoute(APIRoute):
    """An ``APIRoute`` whose POST operations honour ``Idempotency-Key``."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        self._idempotent = "POST" in methods
        if self._idempotent:
            kwargs["dependencies"] = [
                *(kwargs.get("dependencies") or ()),
                Depends(idempotency_key_header),
            ]
            kwargs["responses"] = {
                **problem_responses(400, 409, 422),
                **(kwargs.get("responses") or {}),
            }
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self._idempotent:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            return await run_idempotently(request, handler)

        return idempotent_handler
