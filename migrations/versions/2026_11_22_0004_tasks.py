"""tasks

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dossier.db.base

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("completed_at", dossier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("due_at", dossier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", dossier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dossier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority BETWEEN 0 AND 3", name=op.f("ck_tasks_priority_valid")),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_tasks_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_tasks_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tasks_assignee_id_created_at_id"),
            ["assignee_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_created_at_id"), ["created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tasks_done_due_at"), ["done", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_due_at_id"), ["due_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_owner_id_created_at_id"),
            ["owner_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_tasks_priority_id"), ["priority", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_title_id"), ["title", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_updated_at_id"), ["updated_at", "id"], unique=False
        )

    op.create_table(
        "task_tags",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_task_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_tags_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "tag_id", name=op.f("pk_task_tags")),
    )
    with op.batch_alter_table("task_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_tags_tag_id_task_id"), ["tag_id", "task_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("task_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_tags_tag_id_task_id"))

    op.drop_table("task_tags")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_title_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_priority_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_owner_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_due_at_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_done_due_at"))
        batch_op.drop_index(batch_op.f("ix_tasks_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_assignee_id_created_at_id"))

    op.drop_table("tasks")
    op.drop_table("tags")
