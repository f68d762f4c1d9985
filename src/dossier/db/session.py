"""One unit of work per request: commit once after the handler succeeded, else roll back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dossier.core.errors import DomainError
from dossier.db.engine import Database, ReadOnlySessionError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    database = get_database(request)
    if request.method in SAFE_METHODS:
        # A read runs without a transaction and cannot write (the reader engine refuses a
        # statement that would): there is nothing to commit or roll back, and closing the
        # session returns its connection. Changes a handler left unflushed would be dropped
        # without a word: refuse them like a write.
        async with database.reader_sessionmaker() as session:
            request.state.unit_of_work = session
            yield session
            if session.new or session.deleted or any(map(session.is_modified, session.dirty)):
                raise ReadOnlySessionError("a read-only unit of work cannot write")
        return
    async with database.writer_sessionmaker() as session:
        # Shared mechanisms that must write in the same transaction (idempotency keys) find it here.
        request.state.unit_of_work = session
        try:
            yield session
        except DomainError as exc:
            if exc.persist_changes:
                await _commit(request, session)
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        # scope="function" below: this runs after the handler returned and before the
        # response is sent, so a failed commit becomes an error response, never a lie.
        await _commit(request, session)


async def _commit(request: Request, session: AsyncSession) -> None:
    """Commit, then run the application's commit hooks (cache invalidation) before the
    response goes out, so the client's next request already sees the change."""
    await session.commit()
    for hook in getattr(request.app.state, "commit_hooks", ()):
        await hook(session.info)


SessionDep = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]
