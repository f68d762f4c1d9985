"""Documents: ingestion throughput and search latency over a generated corpus, on both databases.

For each database (SQLite always; PostgreSQL when ``DOSSIER_BENCH_POSTGRES_URL`` — default
``postgresql://postgres@127.0.0.1:5432/test`` — answers), a fresh database is migrated and
``--documents`` documents (default 1,000: 85 % text, Markdown and HTML of 300-1,500 words, 15 %
three-page PDFs) are uploaded through the service, then ingested through the same
``ingest_document`` the job handler calls, with the extraction process pool (2 processes) and 4
documents in flight. Ingestion is reported as documents/s and MB/s of extracted text.

Search latency is measured through HTTP with wrk against ``GET /api/v1/search`` of the full app
(uvicorn pinned to core 0, wrk to core 1, 64 connections), next to the raw ASGI baseline of the
same run, for four query shapes: a common word (matches ~30 % of documents), a rare word, a
two-word phrase and a prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import Result, machine_line, run_wrk, serve, table, write_section

SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 (a throwaway database)
POSTGRES_URL = os.environ.get(
    "DOSSIER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CONNECTIONS = 16
QUERIES = {
    "common word": "harbour",
    "rare word": "quetzal",
    "phrase": '"silver lantern"',
    "prefix": "naviga*",
}


@dataclass
class IngestFigures:
    documents: int
    seconds: float
    text_chars: int
    failed: int
    chunks: int

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds

    @property
    def text_mb_per_second(self) -> float:
        return self.text_chars / 1e6 / self.seconds


def _vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "be", "da", "po", "ge", "fa"]
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    return sorted(words)


def _corpus(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    from fpdf import FPDF

    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like

    def paragraph(words: int) -> str:
        chosen = rng.choices(vocabulary, weights=weights, k=words)
        if rng.random() < 0.3:
            chosen.insert(rng.randrange(len(chosen)), "harbour")
        if rng.random() < 0.05:
            chosen.insert(rng.randrange(len(chosen)), "silver lantern")
        if rng.random() < 0.1:
            chosen.insert(rng.randrange(len(chosen)), rng.choice(["navigation", "navigator"]))
        if rng.random() < 0.005:
            chosen.insert(rng.randrange(len(chosen)), "quetzal")
        return " ".join(chosen).capitalize() + "."

    files: list[tuple[str, bytes]] = []
    for index in range(count):
        kind = index % 20
        if kind < 3:
            pdf = FPDF()
            pdf.set_font("helvetica", size=10)
            for _ in range(3):
                pdf.add_page()
                pdf.multi_cell(0, 5, paragraph(rng.randint(150, 300)))
            files.append((f"doc{index}.pdf", bytes(pdf.output())))
        elif kind < 9:
            body = "\n\n".join(paragraph(rng.randint(60, 150)) for _ in range(rng.randint(3, 8)))
            files.append((f"doc{index}.txt", body.encode()))
        elif kind < 15:
            body = "\n\n".join(
                f"## Section {n}\n\n{paragraph(rng.randint(60, 150))}"
                for n in range(rng.randint(3, 8))
            )
            files.append((f"doc{index}.md", body.encode()))
        else:
            body = "".join(
                f"<h2>Part {n}</h2><p>{paragraph(rng.randint(60, 150))}</p>"
                for n in range(rng.randint(3, 8))
            )
            files.append(
                (f"doc{index}.html", f"<!DOCTYPE html><html><body>{body}</body></html>".encode())
            )
    return files


async def _create_postgres_database() -> str | None:
    admin = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    name = f"dossier_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL unavailable ({type(exc).__name__}); SQLite only")
        return None
    finally:
        await engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(url: str) -> None:
    target = make_url(url)
    admin = target.set(database=make_url(POSTGRES_URL).database)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            )
    finally:
        await engine.dispose()


async def _load(
    database_url: str, data_dir: Path, corpus: list[tuple[str, bytes]]
) -> tuple[IngestFigures, str]:
    from dossier.auth.principal import Principal
    from dossier.config import Settings
    from dossier.core.security.passwords import hash_password_sync
    from dossier.core.security.tokens import AccessTokenCodec, derive_key
    from dossier.core.storage import create_storage
    from dossier.db.engine import create_database
    from dossier.db.migrate import upgrade
    from dossier.documents import service
    from dossier.documents.bulk import stage_file
    from dossier.documents.ingestion import IngestionFailed, ingest_document
    from dossier.documents.pool import create_extraction_pool, pool_runner
    from dossier.models.document import Document
    from dossier.models.user import Role, User

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        data_dir=data_dir,
        secret_key=SECRET,
        documents_duplicate_policy="allow",
    )
    await asyncio.to_thread(upgrade, settings)
    database = create_database(settings)
    storage = create_storage(settings)
    pool = create_extraction_pool(2)
    run_cpu = pool_runner(pool)
    try:
        user = User(
            email=f"bench-{uuid.uuid4().hex[:6]}@example.com",
            display_name="Bench",
            role="user",
            password_hash=hash_password_sync("bench password 1234"),
        )
        async with database.writer_sessionmaker() as session, session.begin():
            session.add(user)
        principal = Principal(user_id=user.id, role=Role.USER)

        # Upload (not timed): store the files and create the rows.
        source_dir = data_dir / "corpus"
        source_dir.mkdir(parents=True, exist_ok=True)
        ids: list[uuid.UUID] = []
        for name, data in corpus:
            path = source_dir / name
            path.write_bytes(data)
            upload = stage_file(path, service.temporary_dir(settings), settings.max_upload_bytes)
            async with database.writer_sessionmaker() as session, session.begin():
                document = await service.upload_document(
                    session, principal, upload=upload, storage=storage, settings=settings
                )
            ids.append(document.id)

        # Warm the pool's processes (imports) before timing.
        await run_cpu(sum, [1, 2])
        semaphore = asyncio.Semaphore(4)
        failed = 0

        async def one(document_id: uuid.UUID) -> None:
            nonlocal failed
            async with semaphore:
                try:
                    await ingest_document(database, storage, settings, document_id, run_cpu=run_cpu)
                except IngestionFailed:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(document_id) for document_id in ids))
        seconds = time.perf_counter() - started
        async with database.sessionmaker() as session:
            chars, chunks = (
                await session.execute(
                    select(func.sum(Document.text_chars), func.sum(Document.chunk_count))
                )
            ).one()
        # Fresh planner statistics, as autovacuum would gather after a bulk load.
        async with database.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
        codec = AccessTokenCodec(derive_key(SECRET, "jwt-access"))
        token, _claims = codec.issue(subject=user.id, role=user.role)
        figures = IngestFigures(len(ids), seconds, int(chars or 0), failed, int(chunks or 0))
        return figures, token
    finally:
        pool.shutdown(cancel_futures=True)
        await storage.close()
        await database.dispose()


def _search_rows(
    label: str, database_url: str, data_dir: Path, token: str, duration: int
) -> list[Result]:
    env = {
        "DOSSIER_DATABASE_URL": database_url,
        "DOSSIER_DATA_DIR": str(data_dir),
        "DOSSIER_SECRET_KEY": SECRET,
        "DOSSIER_LOG_LEVEL": "WARNING",
        "DOSSIER_RATE_LIMIT_ENABLED": "false",
    }
    rows: list[Result] = []
    headers = {"Authorization": f"Bearer {token}"}
    with serve(
        "dossier.app:create_app_from_env", env=env, factory=True, ready_path="/health/live"
    ) as base:
        for name, query in QUERIES.items():
            url = f"{base}/api/v1/search?q={quote(query)}&limit=20"
            rows.append(
                run_wrk(
                    f"{label}: search, {name}",
                    url,
                    headers=headers,
                    duration_s=duration,
                    connections=CONNECTIONS,
                )
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args(argv)
    from dossier.core.logging import configure_logging

    configure_logging("WARNING", "json")  # a log line per document would be measured too
    corpus = _corpus(args.documents)
    corpus_mb = sum(len(data) for _name, data in corpus) / 1e6

    with serve("bench.baseline:app") as base:
        baseline = run_wrk("raw ASGI baseline", base + "/", duration_s=args.duration)

    ingest_rows: list[str] = []
    search_results: list[Result] = [baseline]
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str]] = [
            ("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        ]
        postgres = asyncio.run(_create_postgres_database())
        if postgres:
            targets.append(("PostgreSQL", postgres))
        try:
            for label, url in targets:
                data_dir = Path(tmp) / label.lower()
                figures, token = asyncio.run(_load(url, data_dir, corpus))
                ingest_rows.append(
                    f"| {label} | {figures.documents:,} | {figures.chunks:,} | "
                    f"{figures.seconds:.1f} | {figures.docs_per_second:.1f} | "
                    f"{figures.text_mb_per_second:.2f} | {figures.failed} |"
                )
                print(ingest_rows[-1], flush=True)
                search_results.extend(_search_rows(label, url, data_dir, token, args.duration))
        finally:
            if postgres:
                asyncio.run(_drop_postgres_database(postgres))

    markdown = f"""## Documents: ingestion and search

{machine_line()}. Corpus: {args.documents:,} generated documents ({corpus_mb:.1f} MB: 15 %
three-page PDFs, the rest text, Markdown and HTML of 300-1,500 words), uploaded through the
service, then ingested by `ingest_document` (extract → chunk → index) with 2 extraction
processes and 4 documents in flight.

| database | documents | chunks | seconds | documents/s | MB/s of text | failed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(ingest_rows)}

Search through HTTP (`GET /api/v1/search`, full app, one uvicorn process, {CONNECTIONS} connections,
{args.duration} s per row after a 2 s warm-up, 20 hits per page with snippets and `total`):

{table(search_results, baseline)}

Every search request also verifies the bearer token and looks up the principal, like any
authenticated route: compare with `GET /api/v1/tasks/{{id}}` in the Tasks section, measured on
the same machine. Reproduce with `make bench BENCH=documents` (or
`.venv/bin/python -m bench.run documents`)."""
    write_section("documents", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
