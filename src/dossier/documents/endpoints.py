"""HTTP routes of the documents API. HTTP only: parsing, status codes, headers."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import BackgroundTasks, Query, Request, Response
from fastapi.responses import StreamingResponse

from dossier.auth.dependencies import CurrentPrincipal
from dossier.config import Settings
from dossier.core.conditional import (
    IfMatchHeader,
    IfNoneMatchHeader,
    etag_for,
    if_match_required,
    not_modified,
    not_modified_response,
    set_etag,
)
from dossier.core.idempotency import IdempotentRoute
from dossier.core.openapi import problem_responses
from dossier.core.pagination import CursorCodecDep, Page, PageParamsDep, page_response
from dossier.core.ranges import UnsatisfiableRange, content_disposition, parse_range
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.documents import service
from dossier.documents.dependencies import StorageDep
from dossier.documents.detection import CONTENT_TYPES
from dossier.documents.errors import RangeNotSatisfiable
from dossier.documents.repository import SORTING, DocumentFilters
from dossier.documents.schemas import (
    DocumentRead,
    DocumentStatusName,
    DocumentText,
    DocumentTypeName,
    IngestAccepted,
    JobSummary,
)
from dossier.documents.upload import receive_upload

router = Router(prefix="/api/v1/documents", tags=["documents"], route_class=IdempotentRoute)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, plain text, Markdown, HTML or DOCX; the type "
                            "is detected from the content.",
                        },
                        "title": {"type": "string", "maxLength": 255},
                    },
                }
            }
        },
    }
}


DocumentSort = StrEnum(  # type: ignore[misc]
    "DocumentSort", {value: value for value in SORTING.choices()}
)


@router.post(
    "",
    status_code=201,
    response_model=DocumentRead,
    summary="Upload a document (multipart: `file`, optional `title`)",
    description="201 with the document; with `ingest=true` also enqueues ingestion and answers "
    "202 with `Location` of the job (the document's own URL in `Content-Location`).",
    openapi_extra=_UPLOAD_BODY,
    responses={
        202: {"model": DocumentRead, "description": "Uploaded; ingestion enqueued"},
        **problem_responses(400, 401, 409, 413, 415, 422),
    },
)
async def upload_document(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    storage: StorageDep,
    ingest: Annotated[
        bool, Query(description="Also enqueue ingestion (202 with the job's Location).")
    ] = False,
) -> Any:
    settings: Settings = request.app.state.settings
    upload = await receive_upload(
        request, max_bytes=settings.max_upload_bytes, tmp_dir=service.temporary_dir(settings)
    )
    document = await service.upload_document(
        session, principal, upload=upload, storage=storage, settings=settings
    )
    if ingest:
        job = await service.request_ingest(session, principal, document_id=document.id)
        response.status_code = 202
        response.headers["Location"] = f"/api/v1/jobs/{job.id}"
        response.headers["Content-Location"] = f"/api/v1/documents/{document.id}"
    else:
        response.headers["Location"] = f"/api/v1/documents/{document.id}"
    set_etag(response, etag_for(document.id, document.version))
    return document


@router.get(
    "",
    response_model=Page[DocumentRead],
    summary="List the documents you may see (newest first by default)",
    description="`page=N` for offset mode (with `total`), else keyset mode with `cursor`.",
    responses=problem_responses(400, 401),
)
async def list_documents(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    params: PageParamsDep,
    codec: CursorCodecDep,
    status: Annotated[DocumentStatusName | None, Query(description="Only this status.")] = None,
    type: Annotated[DocumentTypeName | None, Query(description="Only this type.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Case-insensitive text in the title.")
    ] = None,
    sort: Annotated[DocumentSort | None, Query(description="Sort order.")] = None,
) -> Page[DocumentRead]:
    filters = DocumentFilters(status=status, doc_type=type, title_contains=q or None)
    result = await service.list_documents(
        session,
        principal,
        filters=filters,
        params=params,
        sort=sort.value if sort else None,
        codec=codec,
    )
    return page_response(
        request, response, result, [DocumentRead.model_validate(item) for item in result.items]
    )


@router.get(
    "/{document_id}",
    response_model=DocumentRead,
    summary="A document: metadata, derived outputs and latest job",
    responses={304: {"description": "Not modified"}, **problem_responses(401, 404)},
)
async def get_document(
    document_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_none_match: IfNoneMatchHeader = None,
) -> Any:
    document = await service.get_document(session, principal, document_id=document_id)
    etag = etag_for(document.id, document.version)
    if not_modified(if_none_match, etag):
        return not_modified_response(etag)
    set_etag(response, etag)
    body = DocumentRead.model_validate(document)
    job = await service.latest_job(session, document)
    if job is not None:
        body.latest_job = JobSummary.model_validate(job)
    return body


# The stored file is served with the media type detected at upload (one per document type).
_FILE_CONTENT = {
    media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
    for media_type in CONTENT_TYPES.values()
}


@router.get(
    "/{document_id}/content",
    summary="The original file (attachment; byte ranges supported)",
    response_class=StreamingResponse,
    responses={
        200: {"content": _FILE_CONTENT, "description": "The file, as the type it was detected as"},
        206: {"content": _FILE_CONTENT, "description": "Part of the file"},
        304: {"description": "Not modified"},
        **problem_responses(401, 404, 416),
    },
)
async def get_content(
    document_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    storage: StorageDep,
) -> Response:
    document = await service.get_document(session, principal, document_id=document_id)
    etag = f'"{document.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(document.filename),
        # With the middleware's nosniff and CSP: even if a browser renders an uploaded HTML
        # file, it runs in a sandbox without script.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    size = document.size_bytes
    byte_range = None
    if_range = request.headers.get("if-range")
    if if_range is None or if_range.strip() == etag:
        try:
            byte_range = parse_range(request.headers.get("range"), size)
        except UnsatisfiableRange as exc:
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"}) from exc
    if byte_range is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            storage.iter_range(document.storage_key),
            media_type=document.content_type,
            headers=headers,
        )
    first, last = byte_range
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(
        storage.iter_range(document.storage_key, first, last),
        status_code=206,
        media_type=document.content_type,
        headers=headers,
    )


@router.get(
    "/{document_id}/text",
    response_model=DocumentText,
    summary="The extracted text (once ingestion succeeded)",
    responses=problem_responses(401, 404, 409),
)
async def get_text(
    document_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    storage: StorageDep,
) -> Any:
    document, text = await service.get_text(
        session, principal, document_id=document_id, storage=storage
    )
    set_etag(response, etag_for(document.id, document.version))
    return DocumentText(document_id=document.id, page_count=document.page_count, text=text)


@router.delete(
    "/{document_id}",
    status_code=204,
    summary="Delete a document, its file, chunks and index entries",
    responses=problem_responses(401, 403, 404, 412, 428),
)
async def delete_document(
    document_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    storage: StorageDep,
    background: BackgroundTasks,
    if_match: IfMatchHeader = None,
) -> Response:
    keys = await service.delete_document(
        session,
        principal,
        document_id=document_id,
        if_match=if_match,
        if_match_required=if_match_required(request),
    )
    # Background tasks run after the response, so after the unit of work committed.
    for key in keys:
        background.add_task(storage.delete, key)
    return Response(status_code=204)


@router.post(
    "/{document_id}/ingest",
    status_code=202,
    response_model=IngestAccepted,
    summary="Extract, chunk and index the document in the background",
    description="Answers at once with the job (`Location: /api/v1/jobs/{id}`); a job already "
    "waiting for this document is returned instead of a second one.",
    responses=problem_responses(401, 403, 404),
)
async def ingest_document(
    document_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> IngestAccepted:
    job = await service.request_ingest(session, principal, document_id=document_id)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return IngestAccepted(job_id=job.id, status=job.status)
