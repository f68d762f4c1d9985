"""Building blocks for request schemas shared by every module."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# NUL cannot be stored in PostgreSQL text and the other C0 controls have no business in
# names and titles; tab, newline and carriage return stay allowed. As a `pattern`, the rule is
# both enforced and published in the OpenAPI document.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def drop_null_from_schema(nullable: Iterable[str]) -> Any:
    """``json_schema_extra`` for PATCH bodies: fields may be omitted, but only those in
    ``nullable`` may be sent as ``null`` — so the document says exactly that."""
    keep = frozenset(nullable)

    def adjust(schema: dict[str, Any], _model: Any = None) -> None:
        for name, prop in schema.get("properties", {}).items():
            if name in keep or "anyOf" not in prop:
                continue
            variants = [variant for variant in prop["anyOf"] if variant.get("type") != "null"]
            if len(variants) == 1:
                del prop["anyOf"]
                prop.update(variants[0])
            else:
                prop["anyOf"] = variants
            if prop.get("default", 0) is None:
                del prop["default"]

    return adjust
