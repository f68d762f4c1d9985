"""Building blocks for request schemas shared by every module."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# NUL cannot be stored in PostgreSQL text and the other C0 controls have no business in
# names and titles; tab, newline and carriage return stay allowed. As a `pattern`, the rule is
# both enforced and published in the OpenAPI document.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# The same, and at least one character that is not white space: for names and titles, which
# are stripped before their length is checked, so the document does not offer "   " as valid.
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
NOT_BLANK = rf"^{_ALLOWED}*[^\s\x00-\x1f\x7f]{_ALLOWED}*$"


_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


def no_unix_timestamp(value: Any) -> Any:
    """``BeforeValidator`` for date-times: the published format is RFC 3339 text, so a number
    (which pydantic would read as Unix time: ``due_after=117`` is 1970-01-01T00:01:57Z) is
    refused instead of being silently taken for a date."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        return value
    raise ValueError("expected a date-time in RFC 3339 format, e.g. 2026-12-01T09:30:00Z")


def drop_null_from_schema(nullable: Iterable[str]) -> Any:
    """``json_schema_extra`` for PATCH bodies: fields may be omitted, but only those in
    ``nullable`` may be sent as ``null`` — so the document says exactly that."""
    keep = frozenset(nullable)

    def adjust(schema: dict[str, Any], _model: Any = None) -> None:
        for name, prop in schema.get("properties", {}).items():
            if name not in keep:
                drop_null_branch(prop)

    return adjust


def drop_null_branch(prop: dict[str, Any]) -> None:
    """Take ``null`` out of a property's JSON schema: the ``{"type": "null"}`` branch pydantic
    writes for ``X | None`` (a single remaining branch replaces the ``anyOf``) and a ``null``
    default."""
    if "anyOf" not in prop:
        return
    variants = [variant for variant in prop["anyOf"] if variant.get("type") != "null"]
    if len(variants) == 1:
        del prop["anyOf"]
        prop.update(variants[0])
    else:
        prop["anyOf"] = variants
    if prop.get("default", 0) is None:
        del prop["default"]
