"""What an uploaded file really is, from its bytes — never from its name or declared type.

Binary formats are recognised by their signatures (``%PDF-``; a zip holding
``word/document.xml`` is DOCX). Text is accepted when it decodes as UTF-8 (or UTF-16 with a
byte-order mark) without control characters; among text, HTML is recognised by the WHATWG
sniffing rules. Markdown has no signature: a text file is Markdown when its name ends in
``.md``/``.markdown`` or its content has Markdown structure (headings, fences, lists of links).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dossier.models.document import DocumentType

SNIFF_BYTES = 8192

CONTENT_TYPES: dict[DocumentType, str] = {
    DocumentType.PDF: "application/pdf",
    DocumentType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentType.HTML: "text/html; charset=utf-8",
    DocumentType.MARKDOWN: "text/markdown; charset=utf-8",
    DocumentType.TEXT: "text/plain; charset=utf-8",
}
EXTENSIONS: dict[DocumentType, str] = {
    DocumentType.PDF: ".pdf",
    DocumentType.DOCX: ".docx",
    DocumentType.HTML: ".html",
    DocumentType.MARKDOWN: ".md",
    DocumentType.TEXT: ".txt",
}

# WHATWG MIME sniffing: the tags that make a resource "text/html".
_HTML_START = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body"
    rb"|br|p|!--)(?:[\s>]|--)",
    re.IGNORECASE,
)
_MARKDOWN_HINTS = re.compile(
    r"^(?:#{1,6}\s+\S|```|~~~|[-*+]\s+\[.+\]\(.+\)|\[.+\]:\s+\S|>\s|\|.+\|\s*$)", re.MULTILINE
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Detection:
    doc_type: DocumentType
    content_type: str


class UnsupportedContent(Exception):
    """The bytes are not one of the accepted types; the message says what they look like."""


def _decode_sample(sample: bytes, *, complete: bool) -> str | None:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return sample.decode("utf-16")
        except UnicodeDecodeError:
            return None if complete else sample[: len(sample) // 2 * 2].decode("utf-16", "ignore")
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if not complete and exc.start >= len(sample) - 3:
            return sample[: exc.start].decode("utf-8-sig")
        return None


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def detect(path: Path, filename: str) -> Detection:
    """Classify the file at ``path``; raise :class:`UnsupportedContent` for anything else."""
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
        complete = len(sample) < SNIFF_BYTES or not handle.read(1)
    if not sample:
        raise UnsupportedContent("the file is empty")
    if b"%PDF-" in sample[:1024]:
        return Detection(DocumentType.PDF, CONTENT_TYPES[DocumentType.PDF])
    if sample.startswith(b"PK\x03\x04"):
        if _is_docx(path):
            return Detection(DocumentType.DOCX, CONTENT_TYPES[DocumentType.DOCX])
        raise UnsupportedContent("a zip archive that is not a Word (DOCX) document")
    text = _decode_sample(sample, complete=complete)
    if text is None or "\x00" in text or len(_CONTROL.findall(text)) > 0:
        raise UnsupportedContent("binary content of an unsupported type")
    if _HTML_START.match(text.encode("utf-8", "ignore")):
        return Detection(DocumentType.HTML, CONTENT_TYPES[DocumentType.HTML])
    suffix = Path(filename).suffix.lower()
    if suffix in {".md", ".markdown"} or len(_MARKDOWN_HINTS.findall(text)) >= 2:
        return Detection(DocumentType.MARKDOWN, CONTENT_TYPES[DocumentType.MARKDOWN])
    return Detection(DocumentType.TEXT, CONTENT_TYPES[DocumentType.TEXT])
