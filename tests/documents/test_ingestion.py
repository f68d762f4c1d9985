"""Ingestion as a service function: every type becomes searchable; hostile files fail cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from dossier.config import Settings
from dossier.db.engine import Database
from dossier.documents.ingestion import IngestionFailed, ingest_document
from dossier.documents.pool import pool_runner
from dossier.models.document import DocumentChunk
from dossier.models.user import User
from tests.documents import files
from tests.documents.conftest import Ingest, Upload
from tests.factories import auth_headers

THIRD_PAGE = "The nightingale sang over the harbour of Valparaiso at dawn."


async def _search(client: httpx.AsyncClient, app: FastAPI, user: User, q: str) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": q}, headers=auth_headers(app, user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _chunk_count(database: Database, document_id: str) -> int:
    async with database.sessionmaker() as session:
        statement = select(func.count()).where(DocumentChunk.document_id == uuid.UUID(document_id))
        return int((await session.execute(statement)).scalar_one())


async def test_phrase_from_page_three_is_found_on_page_three(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    pages = [
        "Introduction about shipping routes.",
        "Second page about cargo manifests.",
        f"Third page. {THIRD_PAGE}",
        "Fourth page, an appendix.",
    ]
    created = (await upload(owner, files.make_pdf(pages), "log.pdf", title="Harbour log")).json()
    result = await ingest(created["id"])
    assert result["pages"] == 4
    assert result["chunks"] == 4

    found = await _search(client, app, owner, '"nightingale sang over the harbour"')
    assert found["total"] == 1
    hit = found["items"][0]
    assert hit["document_id"] == created["id"]
    assert hit["title"] == "Harbour log"
    assert hit["page"] == 3
    assert "<mark>nightingale" in hit["snippet"]
    assert hit["score"] > 0

    document = (
        await client.get(f"/api/v1/documents/{created['id']}", headers=auth_headers(app, owner))
    ).json()
    assert document["status"] == "ready"
    assert document["page_count"] == 4
    assert document["chunk_count"] == 4
    assert document["text_chars"] > 0
    assert document["ingested_at"] is not None


@pytest.mark.parametrize(
    ("data", "filename", "word"),
    [
        (files.make_docx(["The quokka smiled in the docx."]), "a.docx", "quokka"),
        (files.HTML.encode(), "a.html", "lighthouse"),
        (files.MARKDOWN.encode(), "a.md", "migratory"),
        (files.TEXT.encode(), "a.txt", "aardvark"),
    ],
)
async def test_every_type_becomes_searchable(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User,
    data: bytes, filename: str, word: str,
) -> None:  # fmt: skip
    created = (await upload(owner, data, filename)).json()
    await ingest(created["id"])
    found = await _search(client, app, owner, word)
    assert [hit["document_id"] for hit in found["items"]] == [created["id"]]
    assert found["items"][0]["page"] is None


async def test_html_scripts_are_not_indexed(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User
) -> None:
    created = (await upload(owner, files.HTML.encode(), "a.html")).json()
    await ingest(created["id"])
    assert (await _search(client, app, owner, "scriptword"))["total"] == 0


async def test_reingesting_replaces_chunks(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User,
    database: Database,
) -> None:  # fmt: skip
    created = (await upload(owner, files.make_pdf(["alpha " * 400, "beta " * 400]), "x.pdf")).json()
    first = await ingest(created["id"])
    second = await ingest(created["id"])
    assert first["chunks"] == second["chunks"] == await _chunk_count(database, created["id"])
    assert (await _search(client, app, owner, "alpha"))["total"] == first["chunks"] // 2


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (files.make_encrypted_pdf("hidden"), "enc.pdf", "encrypted"),
        (files.make_corrupt_pdf(), "bad.pdf", "corrupt|no pages|malformed"),
        (files.make_docx_zip_bomb(), "bomb.docx", "zip bomb"),
        (files.make_docx_entity_bomb(), "lol.docx", "forbidden XML"),
    ],
)
async def test_hostile_files_fail_permanently_with_the_reason(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, ingest: Ingest, owner: User,
    data: bytes, filename: str, reason: str,
) -> None:  # fmt: skip
    created = await upload(owner, data, filename)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    with pytest.raises(IngestionFailed, match=reason):
        await ingest(document_id)
    document = (
        await client.get(f"/api/v1/documents/{document_id}", headers=auth_headers(app, owner))
    ).json()
    assert document["status"] == "failed"
    assert document["failure_reason"]
    # The pool survives: the next document is processed normally.
    good = (await upload(owner, files.TEXT.encode() + filename.encode(), "ok.txt")).json()
    await ingest(good["id"])


async def test_a_failed_reingest_removes_old_chunks(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, database: Database,
    make_settings: Callable[..., Settings], extraction_pool: object,
) -> None:  # fmt: skip
    created = (await upload(owner, files.make_pdf(["one", "two", "three"]), "x.pdf")).json()
    runner = pool_runner(extraction_pool)  # type: ignore[arg-type]
    storage = app.state.storage
    await ingest_document(
        database, storage, app.state.settings, uuid.UUID(created["id"]), run_cpu=runner
    )
    assert await _chunk_count(database, created["id"]) == 3
    strict = make_settings(documents_max_pages=2)
    with pytest.raises(IngestionFailed, match="limit is 2"):
        await ingest_document(database, storage, strict, uuid.UUID(created["id"]), run_cpu=runner)
    assert await _chunk_count(database, created["id"]) == 0


async def test_ingesting_a_missing_document_fails(app: FastAPI, ingest: Ingest) -> None:
    with pytest.raises(IngestionFailed, match="no longer exists"):
        await ingest("00000000-0000-0000-0000-000000000001")
