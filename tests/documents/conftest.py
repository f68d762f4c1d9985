"""Fixtures for the documents tests: users, an extraction pool, upload/ingest helpers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dossier.documents.ingestion import ingest_document
from dossier.documents.pool import create_extraction_pool, pool_runner
from dossier.models.user import User
from tests.factories import auth_headers

Upload = Callable[..., Awaitable[httpx.Response]]
Ingest = Callable[[uuid.UUID | str], Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def extraction_pool() -> Iterator[ProcessPoolExecutor]:
    pool = create_extraction_pool(1)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def upload(client: httpx.AsyncClient, app: FastAPI) -> Upload:
    async def _upload(
        user: User,
        data: bytes,
        filename: str = "file.bin",
        *,
        title: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> httpx.Response:
        form = {"title": title} if title is not None else None
        return await client.post(
            "/api/v1/documents",
            headers=auth_headers(app, user),
            files={"file": (filename, data, content_type)},
            data=form,
        )

    return _upload


@pytest.fixture
def ingest(app: FastAPI, extraction_pool: ProcessPoolExecutor) -> Ingest:
    async def _ingest(document_id: uuid.UUID | str) -> dict[str, Any]:
        return await ingest_document(
            app.state.database,
            app.state.storage,
            app.state.settings,
            uuid.UUID(str(document_id)),
            run_cpu=pool_runner(extraction_pool),
        )

    return _ingest
