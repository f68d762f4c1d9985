"""Small SQL building blocks shared by repositories (no domain knowledge)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, func

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character made literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_ignoring_case(column: SQLColumnExpression[str], text: str) -> ColumnElement[bool]:
    """``lower(column) LIKE '%text%'`` with ``text`` taken literally."""
    return func.lower(column).like(f"%{escape_like(text.lower())}%", escape=LIKE_ESCAPE)


def starts_with(column: SQLColumnExpression[str], prefix: str) -> ColumnElement[bool]:
    """``column LIKE 'prefix%'`` with ``prefix`` taken literally (case as the column's)."""
    return column.like(f"{escape_like(prefix)}%", escape=LIKE_ESCAPE)
