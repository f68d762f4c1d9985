"""The user aggregate."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dossier.db.base import Base, TimestampMixin, new_id, unmanaged


class Role(enum.StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.USER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'moderator', 'admin')", name="role_valid"),
        # The user list's filters and its order.
        Index("ix_users_role_is_active", "role", "is_active"),
        Index("ix_users_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Stored normalised (trimmed, lower case), so uniqueness is case-insensitive everywhere.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped when the password changes, the account is deactivated or the user logs out
    # everywhere; access tokens carry it (`ver`), so every older token stops working at once.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:  # never print the hash
        return f"User(id={self.id!s}, role={self.role})"


# PostgreSQL only, made by migration 0006: `email text_pattern_ops` for the `email_prefix` filter.
unmanaged("ix_users_email_pattern")
