"""Both storage adapters against real backends: a folder, and S3 served by moto on 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from asgi_lifespan import LifespanManager

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.core.storage import BlobNotFound, LocalStorage, Storage, create_storage, new_key
from dossier.db.engine import Database
from tests.documents import files
from tests.documents.conftest import extraction_pool  # noqa: F401
from tests.factories import auth_headers, create_user

S3_CREDENTIALS = {
    "storage_s3_access_key_id": "testing",
    "storage_s3_secret_access_key": "testing",
    "storage_s3_region": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(make_settings: Callable[..., Settings], s3_endpoint: str) -> Settings:
    bucket = f"dossier-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    client.close()
    return make_settings(
        storage_url=f"s3://{bucket}/blobs", storage_s3_endpoint_url=s3_endpoint, **S3_CREDENTIALS
    )


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[Storage]:
    if request.param == "local":
        adapter = create_storage(settings)
    else:
        adapter = create_storage(request.getfixturevalue("s3_settings"))
    try:
        yield adapter
    finally:
        await adapter.close()


async def test_round_trip(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "source"
    data = bytes(range(256)) * 1000
    source.write_bytes(data)
    key = new_key("documents")
    await storage.put_file(key, source)
    assert not source.exists()  # consumed
    assert await storage.exists(key)
    assert await storage.get_bytes(key) == data
    assert b"".join([chunk async for chunk in storage.iter_range(key)]) == data
    assert b"".join([chunk async for chunk in storage.iter_range(key, 10, 19)]) == data[10:20]
    assert b"".join([chunk async for chunk in storage.iter_range(key, 255_990)]) == data[-10:]
    target = tmp_path / "copy"
    await storage.download_to(key, target)
    assert target.read_bytes() == data
    await storage.delete(key)
    await storage.delete(key)  # idempotent
    assert not await storage.exists(key)
    with pytest.raises(BlobNotFound):
        await storage.get_bytes(key)


async def test_put_bytes(storage: Storage) -> None:
    key = new_key("texts")
    await storage.put_bytes(key, "héllo".encode())
    assert (await storage.get_bytes(key)).decode() == "héllo"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "A/B", "a//b", ""])
async def test_keys_cannot_escape_the_root(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.get_bytes(key)


async def test_iter_keys_lists_a_kind_by_age(storage: Storage) -> None:
    documents = [new_key("documents") for _ in range(3)]
    other = new_key("texts")
    for key in [*documents, other]:
        await storage.put_bytes(key, b"x")
    soon = utcnow() + timedelta(seconds=5)
    listed = [
        key async for batch in storage.iter_keys("documents", older_than=soon) for key in batch
    ]
    assert sorted(listed) == sorted(documents)  # only that kind
    long_ago = utcnow() - timedelta(hours=1)
    assert [b async for b in storage.iter_keys("documents", older_than=long_ago)] == []


async def test_local_sweep_removes_only_stale_temporaries(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    await storage.put_bytes(new_key("documents"), b"kept")
    temporary = tmp_path / "root" / ".tmp"
    stale, fresh = temporary / "stale", temporary / "fresh"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written")
    hour_ago = (utcnow() - timedelta(hours=2)).timestamp()
    os.utime(stale, (hour_ago, hour_ago))
    assert await storage.sweep_temporary(older_than=utcnow() - timedelta(hours=1)) == 1
    assert not stale.exists()
    assert fresh.exists()


async def test_local_writes_are_atomic(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    source = tmp_path / "src"
    source.write_bytes(b"x" * 10)
    key = new_key("documents")
    await storage.put_file(key, source)
    # Only the final object exists: no temporary left behind, nothing half written.
    files_left = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert files_left == [tmp_path / "root" / key]


def test_unknown_scheme_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL"):
        create_storage(make_settings(storage_url="ftp://example.com/x"))


async def test_documents_api_on_s3(
    s3_settings: Settings, database: Database, request: pytest.FixtureRequest
) -> None:
    pool = request.getfixturevalue("extraction_pool")
    from dossier.documents.ingestion import ingest_document
    from dossier.documents.pool import pool_runner

    user = await create_user(database)
    app = create_app(s3_settings, configure_logs=False)
    pdf = files.make_pdf(["stored in object storage: pangolin"])
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = auth_headers(app, user)
            created = await client.post(
                "/api/v1/documents", headers=headers, files={"file": ("p.pdf", pdf)}
            )
            assert created.status_code == 201, created.text
            document_id = created.json()["id"]
            content = await client.get(f"/api/v1/documents/{document_id}/content", headers=headers)
            assert content.content == pdf
            await ingest_document(
                app.state.database,
                app.state.storage,
                s3_settings,
                uuid.UUID(document_id),
                run_cpu=pool_runner(pool),
            )
            hits = (await client.get("/api/v1/search?q=pangolin", headers=headers)).json()
            assert hits["total"] == 1
            deleted = await client.delete(f"/api/v1/documents/{document_id}", headers=headers)
            assert deleted.status_code == 204
    objects = boto3.client(
        "s3",
        endpoint_url=s3_settings.storage_s3_endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).list_objects_v2(Bucket=s3_settings.resolved_storage_url.split("/")[2])
    assert objects.get("KeyCount", 0) == 0
