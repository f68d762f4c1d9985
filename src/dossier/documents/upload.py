"""Receive a multipart upload as a stream: to a temporary file, hashed and size-checked.

FastAPI's ``UploadFile`` parses the whole body before the handler runs; this reads the ASGI
stream chunk by chunk instead, so memory stays flat, the SHA-256 is computed on the way, and
the request fails with 413 the moment the file passes ``DOSSIER_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from dossier.documents.errors import (
    InvalidUpload,
    MalformedMultipart,
    NotMultipart,
    UploadTooLarge,
)

MAX_FIELD_BYTES = 4096
ALLOWED_FIELDS = frozenset({"file", "title"})


@dataclass
class ReceivedUpload:
    path: Path
    filename: str
    size: int
    sha256: str
    title: str | None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _invalid(field: str, message: str, kind: str = "value_error") -> InvalidUpload:
    return InvalidUpload(extra={"errors": [{"loc": ["body", field], "msg": message, "type": kind}]})


class _FormState:
    """Parser callbacks (synchronous) collect into here; the coroutine flushes to disk."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.headers: dict[str, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self.part_name: str | None = None
        self.part_filename: str | None = None
        self.fields: dict[str, bytearray] = {}
        self.file_seen = False
        self.filename = ""
        self.pending = bytearray()  # file bytes not yet written
        self.size = 0
        self.digest = hashlib.sha256()
        self.error: Exception | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.headers = {}
        self.part_name = None
        self.part_filename = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self._header_field).lower().decode("latin-1")] = bytes(
            self._header_value
        )
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self.headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.part_name = name
        if name not in ALLOWED_FIELDS:
            self.error = self.error or _invalid(
                name or "?", "unknown form field", "extra_forbidden"
            )
            return
        if name == "file":
            if self.file_seen:
                self.error = self.error or _invalid("file", "send exactly one file")
                return
            self.file_seen = True
            self.filename = (filename or b"").decode("utf-8", "replace")
        else:
            self.fields[name] = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None or self.part_name is None:
            return
        piece = data[start:end]
        if self.part_name == "file":
            self.size += len(piece)
            if self.size > self.max_bytes:
                self.error = UploadTooLarge(
                    f"The file is larger than {self.max_bytes} bytes (DOSSIER_MAX_UPLOAD_BYTES)."
                )
                return
            self.digest.update(piece)
            self.pending += piece
        elif self.part_name in self.fields:
            field = self.fields[self.part_name]
            field += piece
            if len(field) > MAX_FIELD_BYTES:
                self.error = _invalid(self.part_name, "the field is too long", "string_too_long")


async def receive_upload(request: Request, *, max_bytes: int, tmp_dir: Path) -> ReceivedUpload:
    """Parse the request's multipart body; the caller owns (and must discard) the file."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise NotMultipart()
    state = _FormState(max_bytes)
    parser = MultipartParser(boundary, state.callbacks())  # type: ignore[arg-type]
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    path = tmp_dir / f"upload-{secrets.token_hex(12)}"
    fd = await asyncio.to_thread(os.open, path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    handle = os.fdopen(fd, "wb")
    try:
        try:
            async for chunk in request.stream():
                try:
                    parser.write(chunk)
                except MultipartParseError as exc:
                    raise MalformedMultipart() from exc
                if state.error is not None:
                    raise state.error
                if len(state.pending) >= 256 * 1024:
                    data = bytes(state.pending)
                    state.pending.clear()
                    await asyncio.to_thread(handle.write, data)
            try:
                parser.finalize()
            except MultipartParseError as exc:
                raise MalformedMultipart() from exc
            if state.error is not None:
                raise state.error
            if state.pending:
                await asyncio.to_thread(handle.write, bytes(state.pending))
        finally:
            await asyncio.to_thread(handle.close)
        if not state.file_seen:
            raise _invalid("file", "Field required", "missing")
        title_bytes = state.fields.get("title")
        try:
            title = bytes(title_bytes).decode("utf-8").strip() if title_bytes is not None else None
        except UnicodeDecodeError as exc:
            raise _invalid("title", "the title is not UTF-8") from exc
        if title is not None and len(title) > 255:
            raise _invalid("title", "at most 255 characters", "string_too_long")
        return ReceivedUpload(
            path=path,
            filename=state.filename,
            size=state.size,
            sha256=state.digest.hexdigest(),
            title=title or None,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
