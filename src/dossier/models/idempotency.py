"""Stored outcomes of requests sent with an ``Idempotency-Key`` (see core/idempotency.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dossier.db.base import Base, utcnow


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index(None, "expires_at"),)

    # Keys are scoped per user: two users may use the same key independently.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    # sha256 of method, path, query and (canonical JSON) body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # `in_flight` until the first request finished, then `completed`.
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_headers: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A request that dies without finishing releases its key after this moment.
    locked_until: Mapped[datetime]
    expires_at: Mapped[datetime]
