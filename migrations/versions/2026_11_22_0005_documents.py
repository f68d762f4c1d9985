"""documents

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dossier.db.base

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("text_key", sa.String(length=255), nullable=True),
        sa.Column("text_chars", sa.Integer(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("ingested_at", dossier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latest_job_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", dossier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dossier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "doc_type IN ('pdf', 'text', 'markdown', 'html', 'docx')",
            name=op.f("ck_documents_doc_type_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('uploaded', 'processing', 'ready', 'failed')",
            name=op.f("ck_documents_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_documents_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_created_at_id", "documents", ["created_at", "id"])
    op.create_index("ix_documents_doc_type", "documents", ["doc_type"])
    op.create_index(
        "ix_documents_owner_id_created_at_id", "documents", ["owner_id", "created_at", "id"]
    )
    op.create_index("ix_documents_owner_id_sha256", "documents", ["owner_id", "sha256"])
    op.create_index("ix_documents_status", "documents", ["status"])

    op.create_table(
        "document_chunks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_chunks")),
        sa.UniqueConstraint(
            "document_id", "ordinal", name=op.f("uq_document_chunks_document_id_ordinal")
        ),
    )

    # The full-text index, one per database (see dossier.search.index).
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE document_chunks_fts USING fts5("
            "text, content='document_chunks', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER document_chunks_fts_ai AFTER INSERT ON document_chunks BEGIN "
            "INSERT INTO document_chunks_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER document_chunks_fts_ad AFTER DELETE ON document_chunks BEGIN "
            "INSERT INTO document_chunks_fts(document_chunks_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER document_chunks_fts_au AFTER UPDATE ON document_chunks BEGIN "
            "INSERT INTO document_chunks_fts(document_chunks_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); "
            "INSERT INTO document_chunks_fts(rowid, text) VALUES (new.id, new.text); END"
        )
    else:
        op.execute(
            "ALTER TABLE document_chunks ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_document_chunks_search_vector ON document_chunks "
            "USING gin (search_vector)"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS document_chunks_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS document_chunks_fts")
    op.drop_table("document_chunks")
    op.drop_index("ix_documents_status", table_name="documents")
    op.drop_index("ix_documents_owner_id_sha256", table_name="documents")
    op.drop_index("ix_documents_owner_id_created_at_id", table_name="documents")
    op.drop_index("ix_documents_doc_type", table_name="documents")
    op.drop_index("ix_documents_created_at_id", table_name="documents")
    op.drop_table("documents")
