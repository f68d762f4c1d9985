"""The documents API through the real app: upload, reads, content, delete."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select, update

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.documents.service import INGEST_KIND
from dossier.models.job import Job
from dossier.models.user import User
from tests.conftest import client_for
from tests.documents import files
from tests.documents.conftest import Ingest, Upload
from tests.factories import auth_headers
from tests.helpers import assert_problem

PDF = files.make_pdf(["Page one text", "Page two text"])


@pytest.mark.parametrize(
    ("data", "filename", "doc_type", "content_type"),
    [
        (PDF, "report.pdf", "pdf", "application/pdf"),
        (files.make_docx(["hello"]), "letter.docx", "docx", "application/vnd.openxml"),
        (files.HTML.encode(), "page.html", "html", "text/html"),
        (files.MARKDOWN.encode(), "notes.md", "markdown", "text/markdown"),
        (files.TEXT.encode(), "notes.txt", "text", "text/plain"),
    ],
)
async def test_upload_each_supported_type(
    upload: Upload, owner: User, data: bytes, filename: str, doc_type: str, content_type: str
) -> None:
    response = await upload(owner, data, filename)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == doc_type
    assert body["content_type"].startswith(content_type)
    assert body["status"] == "uploaded"
    assert body["size_bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["filename"] == filename
    assert body["owner_id"] == str(owner.id)
    assert response.headers["location"] == f"/api/v1/documents/{body['id']}"


async def test_upload_with_title_and_hostile_filename(
    upload: Upload, owner: User, settings: Settings
) -> None:
    response = await upload(owner, files.TEXT.encode(), "../../etc/pa<ss;wd.txt", title="Mine")
    body = response.json()
    assert body["title"] == "Mine"
    assert body["filename"] == "pa_ss_wd.txt"
    blobs = list((settings.data_dir / "blobs").rglob("*"))
    assert not any("pass" in path.name or path.name == "etc" for path in blobs)


async def test_executable_renamed_pdf_is_415(upload: Upload, owner: User) -> None:
    response = await upload(owner, files.make_exe(), "invoice.pdf", content_type="application/pdf")
    assert_problem(response, 415, "unsupported_document_type")


async def test_upload_too_large_is_413_and_leaves_nothing(
    make_settings: Callable[..., Settings], owner: User
) -> None:
    settings = make_settings(max_upload_bytes=1000)
    app = create_app(settings, configure_logs=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/v1/documents",
                headers=auth_headers(app, owner),
                files={"file": ("big.txt", b"x" * 5000, "text/plain")},
            )
    assert_problem(response, 413)
    leftovers = [p for p in settings.data_dir.rglob("*") if p.is_file() and p.name != "secret_key"]
    assert leftovers == []


async def test_streamed_upload_over_the_limit_without_content_length(
    make_settings: Callable[..., Settings], owner: User
) -> None:
    settings = make_settings(max_upload_bytes=100_000)
    app = create_app(settings, configure_logs=False)
    boundary = "bnd"
    sent = 0

    async def body() -> AsyncIterator[
        bytes
    ]:  # chunked: no Content-Length for the middleware to check
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        for _ in range(100):  # would be 1.6 MB
            sent += 1
            yield b"y" * 16384
        yield f"\r\n--{boundary}--\r\n".encode()

    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/v1/documents",
                headers={
                    **auth_headers(app, owner),
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
                content=body(),
            )
    assert_problem(response, 413)


async def test_duplicate_upload_is_409_naming_the_existing_document(
    upload: Upload, owner: User, other: User
) -> None:
    first = (await upload(owner, files.TEXT.encode(), "a.txt")).json()
    response = await upload(owner, files.TEXT.encode(), "b.txt")
    body = assert_problem(response, 409, "duplicate_document")
    assert body["existing_document_id"] == first["id"]
    # Another user may upload the same bytes.
    assert (await upload(other, files.TEXT.encode(), "a.txt")).status_code == 201


async def test_concurrent_identical_uploads_store_one_document(
    upload: Upload, owner: User, client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Under the reject policy, identical uploads racing each other leave one document: the
    duplicate check and the insert are serialised per owner and content."""
    data = b"the same bytes, uploaded twelve times at once"
    responses = await asyncio.gather(*(upload(owner, data, f"{n}.txt") for n in range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 11, [r.text for r in responses]
    created = next(r.json() for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["existing_document_id"] == created["id"]
    listed = await client.get("/api/v1/documents", headers=auth_headers(app, owner))
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]


async def test_duplicate_policy_allow(make_settings: Callable[..., Settings], owner: User) -> None:
    app = create_app(make_settings(documents_duplicate_policy="allow"), configure_logs=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):
                response = await client.post(
                    "/api/v1/documents",
                    headers=auth_headers(app, owner),
                    files={"file": ("a.txt", b"same bytes", "text/plain")},
                )
                assert response.status_code == 201


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": {"title": "no file"}, "files": {"other": ("a.txt", b"x")}}, "other"),
        ({"data": {"title": "x" * 300}, "files": {"file": ("a.txt", b"x")}}, "title"),
    ],
)
async def test_invalid_forms_are_422(
    client: httpx.AsyncClient, app: FastAPI, owner: User, kwargs: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/documents", headers=auth_headers(app, owner), **kwargs)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", field]


async def test_missing_file_is_422(client: httpx.AsyncClient, app: FastAPI, owner: User) -> None:
    response = await client.post(
        "/api/v1/documents",
        headers=auth_headers(app, owner),
        files={"title": (None, b"only a title")},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "file"]


async def test_malformed_multipart_is_400(
    client: httpx.AsyncClient, app: FastAPI, owner: User
) -> None:
    headers = {**auth_headers(app, owner), "Content-Type": "multipart/form-data; boundary=b"}
    response = await client.post(
        "/api/v1/documents", headers=headers, content=b"--b\r\n\x00bad header\r\n\r\n"
    )
    assert_problem(response, 400, "malformed_multipart")


async def test_json_body_is_415(client: httpx.AsyncClient, app: FastAPI, owner: User) -> None:
    response = await client.post(
        "/api/v1/documents", headers=auth_headers(app, owner), json={"file": "x"}
    )
    assert_problem(response, 415, "multipart_required")


async def test_anonymous_requests_are_401(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User
) -> None:
    # An existing document: the 401 must come before any lookup, not from a missing row.
    url = (await upload(owner, b"not for strangers", "a.txt")).headers["location"]
    for method, path in [
        ("POST", "/api/v1/documents"),
        ("GET", "/api/v1/documents"),
        ("GET", url),
        ("DELETE", url),
        ("GET", f"{url}/content"),
        ("GET", f"{url}/text"),
        ("POST", f"{url}/ingest"),
        ("GET", "/api/v1/search?q=x"),
    ]:
        response = await client.request(method, path)
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
    # Nothing above touched the document: not deleted, no ingestion enqueued.
    document = await client.get(url, headers=auth_headers(app, owner))
    assert document.status_code == 200
    assert document.json()["latest_job_id"] is None


async def test_get_has_etag_and_304(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User
) -> None:
    created = await upload(owner, PDF, "r.pdf")
    url = created.headers["location"]
    response = await client.get(url, headers=auth_headers(app, owner))
    assert response.status_code == 200
    etag = response.headers["etag"]
    assert etag == created.headers["etag"]
    again = await client.get(url, headers={**auth_headers(app, owner), "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_others_documents_are_404_moderators_see_them(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, other: User,
    moderator: User,
) -> None:  # fmt: skip
    url = (await upload(owner, PDF, "r.pdf")).headers["location"]
    for suffix in ("", "/content", "/text"):
        assert_problem(await client.get(url + suffix, headers=auth_headers(app, other)), 404)
    assert_problem(await client.delete(url, headers=auth_headers(app, other)), 404)
    assert (await client.get(url, headers=auth_headers(app, moderator))).status_code == 200
    listed = await client.get("/api/v1/documents", headers=auth_headers(app, other))
    assert listed.json()["items"] == []
    # Moderators read everything but may not delete others' documents.
    assert_problem(await client.delete(url, headers=auth_headers(app, moderator)), 403)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", ""), ("GET", "/content"), ("GET", "/text"), ("POST", "/ingest")],
)
async def test_bad_ids_are_422(
    client: httpx.AsyncClient, app: FastAPI, owner: User, method: str, suffix: str
) -> None:
    response = await client.request(
        method, f"/api/v1/documents/not-a-uuid{suffix}", headers=auth_headers(app, owner)
    )
    body = assert_problem(response, 422, "validation_failed")
    assert [error["loc"] for error in body["errors"]] == [["path", "document_id"]]


async def test_list_filters_and_pages(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, ingest: Ingest
) -> None:
    ids = []
    for index in range(5):
        body = (
            await upload(owner, f"note {index}".encode(), f"n{index}.txt", title=f"Note {index}")
        ).json()
        ids.append(body["id"])
    pdf = (await upload(owner, PDF, "r.pdf", title="Annual Report")).json()
    await ingest(pdf["id"])
    headers = auth_headers(app, owner)

    newest_first = [pdf["id"], *ids[::-1]]

    offset1 = await client.get("/api/v1/documents?limit=4&page=1", headers=headers)
    body1 = offset1.json()
    assert (body1["total"], body1["page"], body1["next_cursor"]) == (6, 1, None)
    assert [item["id"] for item in body1["items"]] == newest_first[:4]
    assert "page=2" in offset1.headers["link"]
    assert 'rel="next"' in offset1.headers["link"]
    body2 = (await client.get("/api/v1/documents?limit=4&page=2", headers=headers)).json()
    assert [item["id"] for item in body2["items"]] == newest_first[4:]

    keyset1 = await client.get("/api/v1/documents?limit=4", headers=headers)
    first = keyset1.json()
    assert first["total"] is None
    assert first["next_cursor"]
    assert [item["id"] for item in first["items"]] == newest_first[:4]
    assert "cursor=" in keyset1.headers["link"]
    second = (
        await client.get(
            "/api/v1/documents", params={"limit": 4, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()  # fmt: skip
    assert [item["id"] for item in second["items"]] == newest_first[4:]
    assert second["next_cursor"] is None
    oldest = (await client.get("/api/v1/documents?sort=created_at&limit=1", headers=headers)).json()
    assert oldest["items"][0]["id"] == ids[0]

    # The first character is all signature bits, so changing it always changes the token
    # (the last ones may be padding bits that decoding ignores).
    token = first["next_cursor"]
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    assert_problem(
        await client.get("/api/v1/documents", params={"cursor": tampered}, headers=headers),
        400,
        "invalid_cursor",
    )
    other_filter = await client.get(
        "/api/v1/documents", params={"cursor": first["next_cursor"], "type": "pdf"},
        headers=headers,
    )  # fmt: skip
    assert_problem(other_filter, 400, "invalid_cursor")
    both = await client.get(
        "/api/v1/documents", params={"cursor": first["next_cursor"], "page": 2}, headers=headers
    )
    assert_problem(both, 400, "conflicting_pagination")

    by_type = (await client.get("/api/v1/documents?type=pdf&page=1", headers=headers)).json()
    assert by_type["total"] == 1
    assert [item["id"] for item in by_type["items"]] == [pdf["id"]]
    ready = (await client.get("/api/v1/documents?status=ready", headers=headers)).json()
    assert [item["id"] for item in ready["items"]] == [pdf["id"]]
    titled = (await client.get("/api/v1/documents?q=REPORT", headers=headers)).json()
    assert [item["id"] for item in titled["items"]] == [pdf["id"]]
    wild = (await client.get("/api/v1/documents?q=%25", headers=headers)).json()
    assert wild["items"] == []  # % is a literal, not a wildcard

    for query in ("limit=0", "limit=101", "page=0", "status=bogus", "type=exe", "sort=size"):
        assert_problem(
            await client.get(f"/api/v1/documents?{query}", headers=headers),
            422,
            "validation_failed",
        )


async def test_content_download_with_ranges(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User
) -> None:
    created = (await upload(owner, PDF, "Résumé 2026.pdf")).json()
    url = f"/api/v1/documents/{created['id']}/content"
    headers = auth_headers(app, owner)

    full = await client.get(url, headers=headers)
    assert full.status_code == 200
    assert full.content == PDF
    assert full.headers["content-type"] == "application/pdf"
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["x-content-type-options"] == "nosniff"
    disposition = full.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="R_sum_ 2026.pdf"')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf" in disposition
    etag = full.headers["etag"]

    part = await client.get(url, headers={**headers, "Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == PDF[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(PDF)}"

    tail = await client.get(url, headers={**headers, "Range": "bytes=-5"})
    assert tail.content == PDF[-5:]
    opened = await client.get(url, headers={**headers, "Range": f"bytes={len(PDF) - 3}-"})
    assert opened.content == PDF[-3:]

    stale = await client.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": '"x"'})
    assert stale.status_code == 200
    assert stale.content == PDF

    outside = await client.get(url, headers={**headers, "Range": f"bytes={len(PDF)}-"})
    assert_problem(outside, 416, "range_not_satisfiable")
    assert outside.headers["content-range"] == f"bytes */{len(PDF)}"

    cached = await client.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304


async def test_html_content_is_served_as_a_sandboxed_attachment(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User
) -> None:
    created = (await upload(owner, files.HTML.encode(), "page.html")).json()
    response = await client.get(
        f"/api/v1/documents/{created['id']}/content", headers=auth_headers(app, owner)
    )
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]


async def test_text_is_409_until_ingested_then_available(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, ingest: Ingest
) -> None:
    created = (await upload(owner, PDF, "r.pdf")).json()
    url = f"/api/v1/documents/{created['id']}/text"
    assert_problem(await client.get(url, headers=auth_headers(app, owner)), 409)
    await ingest(created["id"])
    body = (await client.get(url, headers=auth_headers(app, owner))).json()
    assert body["page_count"] == 2
    assert "Page one text" in body["text"]
    assert "Page two text" in body["text"]


async def test_delete_removes_blob_text_and_index_entries(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, ingest: Ingest,
    settings: Settings,
) -> None:  # fmt: skip
    created = (await upload(owner, files.make_pdf(["unique zanzibar words"]), "z.pdf")).json()
    await ingest(created["id"])
    headers = auth_headers(app, owner)
    hits = (await client.get("/api/v1/search?q=zanzibar", headers=headers)).json()
    assert hits["total"] == 1

    response = await client.delete(f"/api/v1/documents/{created['id']}", headers=headers)
    assert response.status_code == 204
    assert_problem(await client.get(f"/api/v1/documents/{created['id']}", headers=headers), 404)
    assert (await client.get("/api/v1/search?q=zanzibar", headers=headers)).json()["total"] == 0
    blobs = [p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert blobs == []
    assert_problem(await client.delete(f"/api/v1/documents/{created['id']}", headers=headers), 404)


async def test_upload_is_idempotent_with_a_key(
    client: httpx.AsyncClient, app: FastAPI, owner: User
) -> None:
    # A retry sends the same bytes (the fingerprint covers the body, boundary included).
    headers = {
        **auth_headers(app, owner),
        "Idempotency-Key": "upload-1",
        "Content-Type": "multipart/form-data; boundary=fixed",
    }
    body = (
        b'--fixed\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nidempotent bytes\r\n--fixed--\r\n"
    )
    first = await client.post("/api/v1/documents", headers=headers, content=body)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/documents", headers=headers, content=body)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = (await client.get("/api/v1/documents?page=1", headers=auth_headers(app, owner))).json()
    assert listed["total"] == 1
    other_body = await client.post(
        "/api/v1/documents", headers=headers, content=body.replace(b"idempotent", b"different")
    )
    assert_problem(other_body, 422, "idempotency_key_reused")
    assert "idempotent-replayed" not in other_body.headers
    listed = (await client.get("/api/v1/documents?page=1", headers=auth_headers(app, owner))).json()
    assert listed["total"] == 1


async def test_delete_honours_if_match(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User
) -> None:
    created = await upload(owner, b"to be deleted", "d.txt")
    url = created.headers["location"]
    headers = auth_headers(app, owner)
    stale = await client.delete(url, headers={**headers, "If-Match": '"stale"'})
    body = assert_problem(stale, 412, "precondition_failed")
    assert body["current_etag"] == created.headers["etag"]
    fresh = await client.delete(url, headers={**headers, "If-Match": created.headers["etag"]})
    assert fresh.status_code == 204


async def test_delete_needs_if_match_when_the_setting_requires_it(
    make_settings: Callable[..., Settings], owner: User
) -> None:
    async with client_for(make_settings(require_if_match=True)) as (app, client):
        headers = auth_headers(app, owner)
        created = await client.post(
            "/api/v1/documents",
            headers=headers,
            files={"file": ("d.txt", b"keep me", "text/plain")},
        )
        url = created.headers["location"]
        assert_problem(await client.delete(url, headers=headers), 428, "precondition_required")
        assert (await client.get(url, headers=headers)).status_code == 200
        stale = await client.delete(url, headers={**headers, "If-Match": '"stale"'})
        assert_problem(stale, 412, "precondition_failed")
        fresh = await client.delete(url, headers={**headers, "If-Match": created.headers["etag"]})
        assert fresh.status_code == 204


async def test_ingest_is_idempotent_with_a_key(
    client: httpx.AsyncClient, app: FastAPI, upload: Upload, owner: User, database: Database
) -> None:
    first_document = (await upload(owner, b"the first document", "a.txt")).json()
    second_document = (await upload(owner, b"the second document", "b.txt")).json()
    plain = auth_headers(app, owner)
    headers = {**plain, "Idempotency-Key": "ingest-1"}
    url = f"/api/v1/documents/{first_document['id']}/ingest"

    first = await client.post(url, headers=headers)
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    job_id = first.json()["job_id"]
    assert first.headers["location"] == f"/api/v1/jobs/{job_id}"
    # The job ends, so a request that ran again would enqueue a second job, not reuse this one.
    async with database.writer_sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job_id))
            .values(status="succeeded", finished_at=utcnow())
        )

    again = await client.post(url, headers=headers)
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await _ingest_jobs(database) == 1

    # The same key on another document's path is another request.
    reused = await client.post(f"/api/v1/documents/{second_document['id']}/ingest", headers=headers)
    assert_problem(reused, 422, "idempotency_key_reused")
    assert "idempotent-replayed" not in reused.headers
    untouched = await client.get(f"/api/v1/documents/{second_document['id']}", headers=plain)
    assert untouched.json()["latest_job_id"] is None
    assert await _ingest_jobs(database) == 1

    # Without the key the request runs for real: the replay above was not the job dedupe.
    fresh = await client.post(url, headers=plain)
    assert fresh.status_code == 202
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["job_id"] != job_id
    assert await _ingest_jobs(database) == 2


async def _ingest_jobs(database: Database) -> int:
    async with database.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == INGEST_KIND)
        )
    return int(count or 0)


def test_stale_staging_files_are_swept(settings: Settings) -> None:
    import os

    from dossier.documents.service import sweep_temporary_files, temporary_dir

    folder = temporary_dir(settings)
    folder.mkdir(parents=True)
    stale, fresh = folder / "upload-old", folder / "upload-new"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (0, 0))
    assert sweep_temporary_files(settings) == 1
    assert not stale.exists()
    assert fresh.exists()


def _multipart(payload: bytes, boundary: str = "fixed") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )


async def test_a_large_idempotent_upload_is_spooled_and_stored_intact(
    client: httpx.AsyncClient, app: FastAPI, owner: User
) -> None:
    """Over the in-memory spool size: the body goes through a temporary file, byte for byte."""
    payload = b"".join(f"line {i} of a long text file\n".encode() for i in range(120_000))
    assert len(payload) > 3 * 1024 * 1024
    headers = {
        **auth_headers(app, owner),
        "Idempotency-Key": "big-upload",
        "Content-Type": "multipart/form-data; boundary=fixed",
    }
    first = await client.post("/api/v1/documents", headers=headers, content=_multipart(payload))
    assert first.status_code == 201, first.text
    assert first.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    content = await client.get(f"{first.headers['location']}/content", headers=headers)
    assert content.content == payload
    again = await client.post("/api/v1/documents", headers=headers, content=_multipart(payload))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    changed = await client.post(
        "/api/v1/documents", headers=headers, content=_multipart(payload + b"!")
    )
    assert_problem(changed, 422, "idempotency_key_reused")


async def test_an_idempotent_upload_streamed_past_the_limit_is_413(
    make_settings: Callable[..., Settings], owner: User
) -> None:
    """No Content-Length (chunked): the limit cuts the body off while it is spooled."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'--fixed\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 65536

    async with client_for(make_settings(max_upload_bytes=1024 * 1024)) as (app, client):
        headers = {
            **auth_headers(app, owner),
            "Idempotency-Key": "too-big",
            "Content-Type": "multipart/form-data; boundary=fixed",
        }
        response = await client.post("/api/v1/documents", headers=headers, content=chunks())
        assert_problem(response, 413)
        listed = await client.get("/api/v1/documents?page=1", headers=auth_headers(app, owner))
        assert listed.json()["total"] == 0


async def test_the_content_route_documents_every_type_it_serves(client: httpx.AsyncClient) -> None:
    # The file goes out as the type detected at upload; the document lists each one, so a
    # client (and the contract fuzzer) knows a PDF answer is an answer of this route.
    schema = (await client.get("/openapi.json")).json()
    responses = schema["paths"]["/api/v1/documents/{document_id}/content"]["get"]["responses"]
    for status in ("200", "206"):
        assert set(responses[status]["content"]) == {
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/html",
            "text/markdown",
            "text/plain",
        }
