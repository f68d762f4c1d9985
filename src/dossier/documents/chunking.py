"""Split extracted text into overlapping chunks that keep their page number.

Chunks never cross a page boundary, so a search hit names the exact page its words are on.
Inside a page, a chunk ends at a paragraph, sentence or word boundary near the target size,
and the next one starts ``overlap`` characters earlier (again on a word boundary), so a phrase
cut by one boundary is whole in the neighbouring chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

_BREAKS = ("\n\n", ". ", "? ", "! ", "\n", "; ", ", ", " ")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    page: int | None
    text: str


def _cut(text: str, start: int, size: int) -> int:
    """Where the chunk starting at ``start`` ends."""
    end = start + size
    if end >= len(text):
        return len(text)
    floor = start + size // 2
    for separator in _BREAKS:
        position = text.rfind(separator, floor, end)
        if position != -1:
            return position + len(separator)
    return end


def split_page(text: str, *, size: int, overlap: int) -> list[str]:
    overlap = min(overlap, size // 2)
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, size)
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        if end >= len(text):
            break
        next_start = max(end - overlap, start + 1)
        # Start on a word: skip forward to just after the next space.
        space = text.find(" ", next_start, end)
        start = space + 1 if space != -1 else next_start
    return pieces


def chunk_pages(pages: list[str], *, paged: bool, size: int, overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for number, page_text in enumerate(pages, start=1):
        for piece in split_page(page_text, size=size, overlap=overlap):
            chunks.append(Chunk(ordinal=len(chunks), page=number if paged else None, text=piece))
    return chunks
