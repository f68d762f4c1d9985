"""Refresh tokens: opaque values stored only as hashes, grouped in families (one per login)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dossier.db.base import Base, new_id, utcnow


class RefreshToken(Base):
    """One issued refresh token. Rotation marks it used and issues the next of its family;
    presenting a used token again revokes the whole family (reuse detection)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_user_id_revoked_at", "user_id", "revoked_at"),
        Index("ix_refresh_tokens_family_id", "family_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID]
    # SHA-256 of the token (hex): the token itself has 256 random bits, so a fast hash suffices.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The family's absolute end: copied from the first token, never extended by rotation.
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:  # never print the hash
        return f"RefreshToken(id={self.id!s}, family={self.family_id!s})"
