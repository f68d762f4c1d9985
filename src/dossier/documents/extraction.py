"""Text extraction from untrusted files, within limits. Runs in a worker process.

Every function here is synchronous, top level and picklable, so the job engine's process pool
(``ctx.run_cpu``) or the CLI's own pool can run it: a hostile file may burn CPU, never the
event loop. Limits: pages (PDF), decompressed bytes (DOCX is a zip and may be a zip bomb),
extracted characters, and wall-clock time (a timer in the worker interrupts the parser).
Failures caused by the file itself raise :class:`ExtractionFailed` with a reason meant for the
document's owner; they are permanent (the same bytes fail again).
"""

from __future__ import annotations

import html
import re
import signal
import sys
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A zip member expanding more than this many times is treated as a bomb.
MAX_COMPRESSION_RATIO = 200


@dataclass(frozen=True)
class ExtractionLimits:
    max_pages: int
    max_decompressed_bytes: int
    max_text_chars: int
    timeout_seconds: float


@dataclass
class ExtractedText:
    """Text per page (one "page" without page numbers for formats that have none)."""

    pages: list[str]
    paged: bool
    page_count: int | None
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.pages)


class ExtractionFailed(Exception):
    """The file cannot be processed; ``str(exc)`` is the reason shown to its owner."""


class _Timeout(BaseException):
    # BaseException: parsers that catch Exception broadly cannot swallow it.
    pass


# After the deadline the timer keeps firing at this interval (or the limit, if shorter): an
# exception raised where Python cannot propagate it — inside a garbage-collector callback or a
# ``__del__`` — is printed and dropped, and a single alarm would then never stop the parser.
_REFIRE_SECONDS = 0.05
T = TypeVar("T")


def _alarm_handler(owner: FrameType) -> Callable[[int, FrameType | None], None]:
    """Raise :class:`_Timeout` while ``owner`` (the limited call's frame) is running; once it
    has returned, stop the timer instead. A repeat can land before the cleanup that would stop
    it has run (Python handles signals between any two calls, also at the start of a
    ``finally``), so only the handler itself can be sure never to interrupt what comes next."""

    def handler(_signum: int, frame: FrameType | None) -> None:
        while frame is not None and frame is not owner:
            frame = frame.f_back
        if frame is None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        raise _Timeout

    return handler


def _limited(seconds: float, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, interrupted with :class:`_Timeout` after ``seconds`` (main thread
    of a process only; elsewhere it runs unlimited)."""
    if threading.current_thread() is not threading.main_thread():
        return function(*args)
    previous = signal.signal(signal.SIGALRM, _alarm_handler(sys._getframe()))
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, _REFIRE_SECONDS))
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def clean_text(text: str) -> str:
    """Drop control characters (they also mark search highlights) and squeeze blank runs."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


class _Budget:
    def __init__(self, max_chars: int, warnings: list[str]) -> None:
        self.left = max_chars
        self.max_chars = max_chars
        self.warnings = warnings

    def take(self, text: str) -> str:
        if self.left <= 0:
            return ""
        if len(text) > self.left:
            text = text[: self.left]
            self.warnings.append(
                f"text truncated at {self.max_chars} characters (DOSSIER_DOCUMENTS_MAX_TEXT_CHARS)"
            )
        self.left -= len(text)
        return text


def decode_text(data: bytes, warnings: list[str]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.append("not valid UTF-8; undecodable bytes were replaced")
        return data.decode("utf-8", "replace")


def _read_capped(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit]


# --- PDF ------------------------------------------------------------------------------------


def _extract_pdf(path: Path, limits: ExtractionLimits, warnings: list[str]) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except (NotImplementedError, PdfReadError) as exc:
                raise ExtractionFailed("the PDF is encrypted") from exc
            if not decrypted:
                raise ExtractionFailed("the PDF is encrypted (a password is required)")
            warnings.append("the PDF is encrypted with an empty user password")
        page_count = len(reader.pages)
    except ExtractionFailed:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionFailed("the PDF is encrypted (a password is required)") from exc
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionFailed(f"the PDF is corrupt or unreadable ({type(exc).__name__})") from exc
    except RecursionError as exc:
        raise ExtractionFailed("the PDF is malformed (nested too deeply)") from exc
    if page_count == 0:
        raise ExtractionFailed("the PDF has no pages")
    if page_count > limits.max_pages:
        raise ExtractionFailed(
            f"the PDF has {page_count} pages; the limit is {limits.max_pages} "
            "(DOSSIER_DOCUMENTS_MAX_PAGES)"
        )
    budget = _Budget(limits.max_text_chars, warnings)
    pages: list[str] = []
    failed_pages: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw = page.extract_text() or ""
        except RecursionError:
            raw = ""
            failed_pages.append(number)
        except Exception:  # pypdf raises many types on damaged content streams
            raw = ""
            failed_pages.append(number)
        pages.append(budget.take(clean_text(raw)))
    if failed_pages:
        shown = ", ".join(str(n) for n in failed_pages[:10])
        warnings.append(f"no text could be read from page(s) {shown}")
    if not any(pages):
        warnings.append("the PDF contains no extractable text (scanned images need OCR)")
    return ExtractedText(pages=pages, paged=True, page_count=page_count, warnings=warnings)


# --- DOCX -----------------------------------------------------------------------------------


def _read_zip_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read a member, stopping at ``limit`` bytes whatever the header claims."""
    out = bytearray()
    with archive.open(name) as member:
        while True:
            block = member.read(64 * 1024)
            if not block:
                break
            out += block
            if len(out) > limit:
                raise ExtractionFailed(
                    "the DOCX expands beyond the decompressed size limit "
                    "(DOSSIER_DOCUMENTS_MAX_DECOMPRESSED_BYTES); it may be a zip bomb"
                )
    return bytes(out)


def _docx_paragraphs(xml: bytes) -> list[str]:
    root = SafeElementTree.fromstring(xml, forbid_dtd=True)
    paragraphs: list[str] = []
    for paragraph in root.iter(f"{_W}p"):
        parts: list[str] = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
        paragraphs.append("".join(parts))
    return paragraphs


def _extract_docx(path: Path, limits: ExtractionLimits, warnings: list[str]) -> ExtractedText:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            declared = sum(info.file_size for info in infos)
            if declared > limits.max_decompressed_bytes:
                raise ExtractionFailed(
                    f"the DOCX would expand to {declared} bytes; the limit is "
                    f"{limits.max_decompressed_bytes} (DOSSIER_DOCUMENTS_MAX_DECOMPRESSED_BYTES); "
                    "it may be a zip bomb"
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO:
                    raise ExtractionFailed(
                        f"the DOCX member {info.filename[:60]!r} is compressed {ratio:.0f}:1; "
                        "it looks like a zip bomb"
                    )
            try:
                xml = _read_zip_member(archive, "word/document.xml", limits.max_decompressed_bytes)
            except KeyError as exc:
                raise ExtractionFailed("the DOCX has no word/document.xml") from exc
    except ExtractionFailed:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ExtractionFailed(f"the DOCX is corrupt ({type(exc).__name__})") from exc
    except NotImplementedError as exc:  # unsupported compression method
        raise ExtractionFailed("the DOCX uses an unsupported compression method") from exc
    try:
        paragraphs = _docx_paragraphs(xml)
    except DefusedXmlException as exc:
        raise ExtractionFailed("the DOCX contains forbidden XML (entities or a DTD)") from exc
    except SafeElementTree.ParseError as exc:
        raise ExtractionFailed("the DOCX contains malformed XML") from exc
    budget = _Budget(limits.max_text_chars, warnings)
    text = budget.take(clean_text("\n\n".join(paragraphs)))
    return ExtractedText(pages=[text], paged=False, page_count=None, warnings=warnings)


# --- HTML, Markdown, plain text ---------------------------------------------------------------


class _HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
         "header", "footer", "pre", "blockquote", "table", "ul", "ol", "hr", "title"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip_depth += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(source: str) -> str:
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    title = " ".join("".join(parser.title).split())
    body = "".join(parser.parts)
    return f"{title}\n\n{body}" if title else body


_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(```|~~~).*$", re.MULTILINE), ""),  # code fences (keep the code)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → their text
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE), ""),  # heading marks
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),  # quotes
    (re.compile(r"(\*\*|__|~~)(.+?)\1"), r"\2"),  # bold, strike
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
]


def markdown_to_text(source: str) -> str:
    for pattern, replacement in _MD_RULES:
        source = pattern.sub(replacement, source)
    return html.unescape(source)


def _extract_plain(
    path: Path, doc_type: str, limits: ExtractionLimits, warnings: list[str]
) -> ExtractedText:
    # Text formats are small relative to the limit; reading more than the character budget
    # (4 bytes per character at most) is never needed.
    data = _read_capped(path, limits.max_text_chars * 4)
    source = decode_text(data, warnings)
    if doc_type == "html":
        source = html_to_text(source)
    elif doc_type == "markdown":
        source = markdown_to_text(source)
    budget = _Budget(limits.max_text_chars, warnings)
    text = budget.take(clean_text(source))
    return ExtractedText(pages=[text], paged=False, page_count=None, warnings=warnings)


def extract_text(path: str, doc_type: str, limits: ExtractionLimits) -> ExtractedText:
    """Extract the text of the file at ``path``. The process-pool entry point."""
    try:
        # Every _Timeout is raised inside _limited's frame, so it always arrives here.
        return _limited(limits.timeout_seconds, _extract, Path(path), doc_type, limits)
    except _Timeout as exc:
        raise ExtractionFailed(
            f"text extraction took longer than {limits.timeout_seconds:g} s "
            "(DOSSIER_DOCUMENTS_EXTRACTION_TIMEOUT_SECONDS)"
        ) from exc
    except MemoryError as exc:
        raise ExtractionFailed("the file needs too much memory to process") from exc


def _extract(file: Path, doc_type: str, limits: ExtractionLimits) -> ExtractedText:
    warnings: list[str] = []
    if doc_type == "pdf":
        return _extract_pdf(file, limits, warnings)
    if doc_type == "docx":
        return _extract_docx(file, limits, warnings)
    if doc_type in {"text", "markdown", "html"}:
        return _extract_plain(file, doc_type, limits, warnings)
    raise ExtractionFailed(f"unsupported document type {doc_type!r}")
