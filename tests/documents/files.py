"""Real files for the document tests, generated on the fly."""

from __future__ import annotations

import io
import zipfile

from fpdf import FPDF

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_encrypted_pdf(text: str, password: str = "s3cret-pass") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_corrupt_pdf() -> bytes:
    good = make_pdf(["This file will be damaged."])
    # Keep the signature, destroy the cross-reference table and the objects.
    return good[:20] + b"\x00garbage" * 50 + b"%%EOF"


def document_xml(paragraphs: list[str]) -> str:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )


def make_docx(paragraphs: list[str], *, document: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("_rels/.rels", RELS_XML)
        archive.writestr("word/document.xml", document or document_xml(paragraphs))
    return out.getvalue()


def make_docx_zip_bomb(expanded_mb: int = 60) -> bytes:
    """A DOCX whose document.xml inflates from ~60 kB to tens of megabytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("_rels/.rels", RELS_XML)
        head = f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'
        archive.writestr("word/document.xml", head + "A" * (expanded_mb * 1024 * 1024))
    return out.getvalue()


def make_docx_entity_bomb() -> bytes:
    """A "billion laughs" DOCX: XML entities that expand exponentially."""
    lol = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{lol}]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    return make_docx([], document=document)


def make_exe() -> bytes:
    """The start of a Windows PE executable."""
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 48
        + (b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200)
    )


HTML = (
    "<!DOCTYPE html><html><head><title>Quarterly Report</title>"
    "<script>var secret = 'scriptword';</script><style>.x{color:red}</style></head>"
    "<body><h1>Revenue</h1><p>The lighthouse keeper counted 42 &amp; more ships.</p>"
    "</body></html>"
)
MARKDOWN = (
    "# Field notes\n\nThe **migratory** birds arrived early.\n\n"
    "- [a link](https://example.com) to nowhere\n\n```\ncode block zebra\n```\n"
)
TEXT = "Plain notes about the aardvark expedition.\nSecond line with marmalade.\n"
