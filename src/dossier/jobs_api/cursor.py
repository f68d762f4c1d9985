"""A small signed keyset cursor for job lists.

Interim: the shared ``core/pagination`` helper was not merged when the jobs API was written;
this cursor is local to the package and should be replaced by it. The token is opaque
(base64url JSON + HMAC-SHA256 over it), names the listing it belongs to, and is rejected as
``400 invalid_cursor`` when tampered with or reused on another listing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from dossier.jobs_api.errors import InvalidCursor


@dataclass(frozen=True, slots=True)
class JobCursor:
    listing: str
    rank: int
    created_at: datetime
    id: uuid.UUID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(cursor: JobCursor, key: bytes) -> str:
    body = json.dumps(
        [cursor.listing, cursor.rank, cursor.created_at.isoformat(), str(cursor.id)],
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(signature)}"


def decode_cursor(token: str, key: bytes, *, listing: str) -> JobCursor:
    try:
        body_text, signature_text = token.split(".", 1)
        body = _unb64(body_text)
        signature = _unb64(signature_text)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    expected = hmac.new(key, body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise InvalidCursor()
    try:
        name, rank, created_at, job_id = json.loads(body)
        cursor = JobCursor(
            listing=str(name),
            rank=int(rank),
            created_at=datetime.fromisoformat(created_at),
            id=uuid.UUID(job_id),
        )
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    if cursor.listing != listing or cursor.created_at.tzinfo is None:
        raise InvalidCursor()
    return cursor
