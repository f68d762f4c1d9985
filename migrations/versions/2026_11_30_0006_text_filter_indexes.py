"""indexes for the text filters: task `q` (trigram) and user `email_prefix` (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

``GET /api/v1/tasks?q=…`` matches a substring of the title or the description
(``lower(column) LIKE '%…%'``). A B-tree index cannot serve a pattern with a leading
wildcard; pg_trgm's GIN operator class can, for patterns of three characters or more. SQLite
has no such index for a plain table (FTS5's trigram tables need a stable integer rowid, which
tasks, keyed by UUID, do not have): there the filter scans the tasks the caller can see.

``GET /api/v1/users?email_prefix=…`` is ``email LIKE 'prefix%'``. PostgreSQL serves that from a
B-tree only with the C collation or the ``text_pattern_ops`` operator class, hence the second
index. SQLite needs none: the repository asks it for a range of the unique index instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tasks_title_trgm": "tasks USING gin (lower(title) gin_trgm_ops)",
    "ix_tasks_description_trgm": "tasks USING gin (lower(description) gin_trgm_ops)",
    "ix_users_email_pattern": "users (email text_pattern_ops)",
}


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    # A trusted extension since PostgreSQL 13: the database owner may create it (or a DBA may
    # have created it beforehand; then this is a no-op).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # CONCURRENTLY: writes to tasks and users go on while the indexes are built (a plain
    # CREATE INDEX would block them until the migration commits). It cannot run inside a
    # transaction, hence the autocommit block.
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            # A concurrent build that failed leaves an INVALID index behind: drop and rebuild.
            # The names are this module's constants, not input.
            invalid = (
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "  # noqa: S608
                f"WHERE c.relname = '{name}' AND NOT i.indisvalid"
            )
            op.execute(
                f"DO $$ BEGIN IF EXISTS ({invalid}) THEN EXECUTE 'DROP INDEX {name}'; END IF; END $$"
            )
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    # The extension stays: other schemas in the database may use it.
