"""Errors of the search module."""

from __future__ import annotations

from dossier.core.errors import BadRequest


class InvalidSearchQuery(BadRequest):
    code = "invalid_search_query"
    default_detail = "The search query is malformed."
