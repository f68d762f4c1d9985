"""Chunks overlap, end on boundaries and keep their page."""

from __future__ import annotations

import itertools

from dossier.documents.chunking import chunk_pages, split_page


def test_short_text_is_one_chunk() -> None:
    assert split_page("hello world", size=100, overlap=10) == ["hello world"]


def test_chunks_overlap_and_cover_everything() -> None:
    words = [f"w{i}" for i in range(600)]
    text = " ".join(words)
    pieces = split_page(text, size=200, overlap=40)
    assert len(pieces) > 5
    assert all(len(piece) <= 200 for piece in pieces)
    seen = {word for piece in pieces for word in piece.split()}
    assert seen == set(words)  # no word lost, none cut in half
    for left, right in itertools.pairwise(pieces):
        assert left.split()[-1] in right.split()[:15]  # neighbours share words


def test_chunks_prefer_sentence_ends() -> None:
    text = "First sentence is here. " * 30
    pieces = split_page(text, size=120, overlap=0)
    assert all(piece.endswith(".") for piece in pieces)


def test_pages_are_kept_and_never_mixed() -> None:
    chunks = chunk_pages(
        ["page one " * 50, "", "page three " * 50], paged=True, size=150, overlap=20
    )
    assert {chunk.page for chunk in chunks} == {1, 3}
    assert all("three" in chunk.text for chunk in chunks if chunk.page == 3)
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))


def test_unpaged_text_has_no_page_numbers() -> None:
    chunks = chunk_pages(["some text"], paged=False, size=150, overlap=20)
    assert [chunk.page for chunk in chunks] == [None]
