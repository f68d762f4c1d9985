"""HTTP byte ranges (RFC 9110 §14) for downloads: one range per request.

A multi-range request is answered with the whole representation (allowed by the RFC and what
most object stores do); a syntactically invalid header is ignored; a range outside the
representation is 416.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive, or ``None`` for the whole representation."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None  # multiple ranges or another unit: send everything
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise UnsatisfiableRange
        return max(size - length, 0), size - 1
    first = int(first_text)
    if first >= size:
        raise UnsatisfiableRange
    last = int(last_text) if last_text else size - 1
    if last < first:
        return None  # invalid: ignored
    return first, min(last, size - 1)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = fallback.replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
