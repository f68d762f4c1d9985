"""Response bodies of the search API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class SearchHitRead(BaseModel):
    document_id: uuid.UUID
    title: str
    snippet: str = Field(
        description="HTML-escaped text around the match, matches wrapped in `<mark>`."
    )
    score: float = Field(description="Relevance; higher is better (comparable within a query).")
    chunk_index: int = Field(description="Position of the matching chunk in the document.")
    page: int | None = Field(description="Page of the match (PDF), else null.")
