"""Extraction of each type, and every limit, with real files."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

import pytest

from dossier.documents.extraction import (
    ExtractedText,
    ExtractionFailed,
    ExtractionLimits,
    _alarm_handler,
    _limited,
    _Timeout,
    extract_text,
)
from tests.documents import files

LIMITS = ExtractionLimits(
    max_pages=50, max_decompressed_bytes=10 * 1024 * 1024, max_text_chars=100_000,
    timeout_seconds=30,
)  # fmt: skip


def _extract(
    tmp_path: Path, data: bytes, doc_type: str, limits: ExtractionLimits = LIMITS
) -> ExtractedText:
    path = tmp_path / "file"
    path.write_bytes(data)
    return extract_text(str(path), doc_type, limits)


def test_pdf_text_keeps_pages(tmp_path: Path) -> None:
    result = _extract(
        tmp_path, files.make_pdf(["first page alpha", "second beta", "third gamma"]), "pdf"
    )
    assert result.paged
    assert result.page_count == 3
    assert "alpha" in result.pages[0]
    assert "gamma" in result.pages[2]
    assert result.warnings == []


def test_encrypted_pdf_fails_with_a_clear_reason(tmp_path: Path) -> None:
    with pytest.raises(ExtractionFailed, match="encrypted"):
        _extract(tmp_path, files.make_encrypted_pdf("secret words"), "pdf")


def test_corrupt_pdf_fails(tmp_path: Path) -> None:
    with pytest.raises(ExtractionFailed, match=r"corrupt|no pages|malformed"):
        _extract(tmp_path, files.make_corrupt_pdf(), "pdf")


def test_pdf_over_the_page_limit_fails(tmp_path: Path) -> None:
    limits = ExtractionLimits(2, LIMITS.max_decompressed_bytes, 100_000, 30)
    with pytest.raises(ExtractionFailed, match="3 pages; the limit is 2"):
        _extract(tmp_path, files.make_pdf(["a", "b", "c"]), "pdf", limits)


# Hypothesis keeps a gc callback installed; an alarm landing in it is dropped by Python and
# reported as unraisable, then the repeat interrupts the parser (the case tested below).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_extraction_time_limit(tmp_path: Path) -> None:
    pages = ["lorem ipsum dolor sit amet " * 40] * 40
    limits = ExtractionLimits(100, LIMITS.max_decompressed_bytes, 1_000_000, 0.001)
    with pytest.raises(ExtractionFailed, match="longer than"):
        _extract(tmp_path, files.make_pdf(pages), "pdf", limits)


def _swallow_one_interruption_then_work(seconds: float) -> None:
    try:
        while True:
            time.sleep(0.001)
    except _Timeout:
        pass  # as a gc callback or a __del__ would: Python prints it and goes on
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.001)


def test_time_limit_fires_again_when_its_interruption_is_swallowed() -> None:
    with pytest.raises(_Timeout):
        _limited(0.01, _swallow_one_interruption_then_work, 10)


def test_time_limit_is_off_after_the_call() -> None:
    assert _limited(0.01, sum, [1, 2]) == 3
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(0.05)  # an alarm left armed would raise here


def _finished_frame() -> FrameType:
    return sys._getframe()


def test_an_alarm_after_the_limited_call_stops_the_timer_instead_of_raising() -> None:
    # A repeat can land before the cleanup that stops the timer runs; the handler then sees
    # that the limited call's frame is gone and stops the timer itself.
    handler = _alarm_handler(_finished_frame())
    signal.setitimer(signal.ITIMER_REAL, 60, 60)
    try:
        handler(signal.SIGALRM, sys._getframe())  # does not raise
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_an_alarm_inside_the_limited_call_raises() -> None:
    handler = _alarm_handler(sys._getframe())

    def deeper() -> None:
        handler(signal.SIGALRM, sys._getframe())

    with pytest.raises(_Timeout):
        deeper()


def test_text_beyond_the_limit_is_truncated_with_a_warning(tmp_path: Path) -> None:
    limits = ExtractionLimits(10, LIMITS.max_decompressed_bytes, 1000, 30)
    result = _extract(tmp_path, ("word " * 1000).encode(), "text", limits)
    assert len(result.text) <= 1000
    assert any("truncated" in warning for warning in result.warnings)


def test_docx_paragraphs(tmp_path: Path) -> None:
    result = _extract(tmp_path, files.make_docx(["Hello docx world", "Second para"]), "docx")
    assert result.page_count is None
    assert "Hello docx world" in result.text
    assert "Second para" in result.text


def test_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractionFailed, match=r"zip bomb|decompressed size"):
        _extract(tmp_path, files.make_docx_zip_bomb(), "docx")


def test_docx_compression_ratio_of_a_bomb_is_refused_under_a_generous_limit(
    tmp_path: Path,
) -> None:
    limits = ExtractionLimits(10, 500 * 1024 * 1024, 100_000, 30)
    with pytest.raises(ExtractionFailed, match=r"compressed .*:1; it looks like a zip bomb"):
        _extract(tmp_path, files.make_docx_zip_bomb(), "docx", limits)


def test_docx_over_a_small_decompressed_limit_is_refused(tmp_path: Path) -> None:
    limits = ExtractionLimits(10, 64 * 1024, 100_000, 30)
    data = files.make_docx(["x" * (200 * 1024)])
    with pytest.raises(ExtractionFailed, match=r"decompressed size|zip bomb"):
        _extract(tmp_path, data, "docx", limits)


def test_docx_entity_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractionFailed, match="forbidden XML"):
        _extract(tmp_path, files.make_docx_entity_bomb(), "docx")


def test_html_drops_scripts_and_styles(tmp_path: Path) -> None:
    result = _extract(tmp_path, files.HTML.encode(), "html")
    assert "Quarterly Report" in result.text
    assert "42 & more ships" in result.text
    assert "scriptword" not in result.text
    assert "color:red" not in result.text


def test_markdown_keeps_words_drops_syntax(tmp_path: Path) -> None:
    result = _extract(tmp_path, files.MARKDOWN.encode(), "markdown")
    assert "Field notes" in result.text
    assert "**" not in result.text
    assert "a link to nowhere" in result.text
    assert "zebra" in result.text


def test_control_characters_are_removed(tmp_path: Path) -> None:
    result = _extract(tmp_path, b"a\x02b\x03c", "text")
    assert result.text == "a b c"
