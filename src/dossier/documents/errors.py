"""Errors of the documents module."""

from __future__ import annotations

from dossier.core.errors import (
    BadRequest,
    Conflict,
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnprocessableContent,
    UnsupportedMediaType,
)


class DocumentNotFound(NotFound):
    code = "document_not_found"
    default_detail = "The document does not exist."


class DuplicateDocument(Conflict):
    code = "duplicate_document"
    default_detail = "You already uploaded this file."


class UploadTooLarge(PayloadTooLarge):
    code = "upload_too_large"
    default_detail = "The file is larger than the upload limit."


class UnsupportedDocumentType(UnsupportedMediaType):
    code = "unsupported_document_type"
    default_detail = "Only PDF, plain text, Markdown, HTML and DOCX files are accepted."


class NotMultipart(UnsupportedMediaType):
    code = "multipart_required"
    default_detail = "Send the file as multipart/form-data with a `file` field."


class InvalidUpload(UnprocessableContent):
    code = "invalid_upload"
    default_detail = "The upload form is invalid; see `errors`."


class DocumentTextUnavailable(Conflict):
    code = "document_not_ready"
    default_detail = "The document's text is not available until ingestion succeeds."


class RangeNotSatisfiable(DomainError):
    status = 416
    code = "range_not_satisfiable"
    default_detail = "The requested byte range is outside the file."


class MalformedMultipart(BadRequest):
    code = "malformed_multipart"
    default_detail = "The multipart/form-data body is malformed."
