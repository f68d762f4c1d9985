"""`dossier documents import|reindex` as real processes; results searchable through the API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from dossier.config import Settings
from dossier.models.user import User
from tests.documents import files
from tests.factories import auth_headers
from tests.test_cli import run_cli


async def _hits(
    client: httpx.AsyncClient, app: FastAPI, user: User, q: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/search", params={"q": q}, headers=auth_headers(app, user))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_import_a_folder_then_reindex(
    tmp_path: Path, database_url: str, settings: Settings, owner: User,
    client: httpx.AsyncClient, app: FastAPI,
) -> None:  # fmt: skip
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.pdf").write_bytes(files.make_pdf(["one", "two", "the ibex on page three"]))
    (folder / "sub" / "b.docx").write_bytes(files.make_docx(["A docx about the gecko."]))
    (folder / "c.html").write_bytes(files.HTML.encode())
    (folder / "d.md").write_bytes(files.MARKDOWN.encode())
    (folder / "e.txt").write_bytes(files.TEXT.encode())
    (folder / "setup.pdf").write_bytes(files.make_exe())
    (folder / ".hidden.txt").write_bytes(b"hidden hamster")

    result = await asyncio.to_thread(
        run_cli, "documents", "import", str(folder), "--owner", owner.email,
        database_url=database_url, data_dir=settings.data_dir,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # one file failed
    assert "imported 5 of 6 file(s)" in result.stderr
    assert "setup.pdf" in result.stderr

    pdf_hits = await _hits(client, app, owner, "ibex")
    assert [hit["page"] for hit in pdf_hits] == [3]
    for word in ("gecko", "lighthouse", "migratory", "aardvark"):
        assert len(await _hits(client, app, owner, word)) == 1, word
    assert await _hits(client, app, owner, "hamster") == []

    result = await asyncio.to_thread(
        run_cli, "documents", "reindex", database_url=database_url, data_dir=settings.data_dir
    )
    assert result.returncode == 0, result.stderr
    assert "re-indexed 5 of 5 document(s)" in result.stderr
    assert len(await _hits(client, app, owner, "gecko")) == 1

    result = await asyncio.to_thread(
        run_cli, "documents", "reindex", "--index-only",
        database_url=database_url, data_dir=settings.data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(await _hits(client, app, owner, "ibex")) == 1


async def test_import_needs_a_known_owner(
    tmp_path: Path, database_url: str, settings: Settings
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x")
    result = await asyncio.to_thread(
        run_cli, "documents", "import", str(path), "--owner", "nobody@example.com",
        database_url=database_url, data_dir=settings.data_dir,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no user with the email" in result.stderr
