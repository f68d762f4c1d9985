"""Type detection trusts the bytes, never the name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from dossier.documents.detection import UnsupportedContent, detect
from dossier.models.document import DocumentType
from tests.documents import files


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (files.make_pdf(["hello"]), "report.txt", DocumentType.PDF),
        (files.make_docx(["hello"]), "letter.pdf", DocumentType.DOCX),
        (files.HTML.encode(), "page.txt", DocumentType.HTML),
        (b"  <p>fragment</p>", "x", DocumentType.HTML),
        (files.MARKDOWN.encode(), "notes.txt", DocumentType.MARKDOWN),
        (b"just words", "notes.md", DocumentType.MARKDOWN),
        (files.TEXT.encode(), "notes.md.pdf", DocumentType.TEXT),
        ("Grüße aus Köln".encode(), "x", DocumentType.TEXT),
        ("\ufeffBOM text".encode("utf-16"), "x", DocumentType.TEXT),
    ],
)
def test_detects_the_type_from_content(
    tmp_path: Path, data: bytes, filename: str, expected: DocumentType
) -> None:
    assert detect(_write(tmp_path, data), filename).doc_type is expected


def test_multibyte_character_cut_by_the_sample_is_still_text(tmp_path: Path) -> None:
    data = b"a" * 8191 + "é".encode() + b"tail"
    assert detect(_write(tmp_path, data), "x").doc_type is DocumentType.TEXT


@pytest.mark.parametrize(
    "data",
    [
        files.make_exe(),
        b"\x7fELF\x02\x01\x01" + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
        b"",
        b"text with a \x1b escape",
        "latin-1 only: caf\xe9 ".encode("latin-1") * 3,
    ],
)
def test_refuses_other_content_whatever_its_name(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnsupportedContent):
        detect(_write(tmp_path, data), "innocent.pdf")


def test_a_zip_that_is_not_docx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(UnsupportedContent, match="zip"):
        detect(path, "letter.docx")
