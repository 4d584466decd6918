"""HTTP routes of the importer service (the Imports page): a few lines each, the work is
in service_layer."""

from __future__ import annotations

import re
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from services.importer.adapters.import_repository import ImportRecord
from services.importer.entrypoints.http_views import (
    ConfirmRequest,
    FeedbackPage,
    FeedbackView,
    ImportPage,
    ImportView,
    StartAccepted,
)
from services.importer.entrypoints.multipart_upload import MalformedUpload, StreamingFormUpload
from services.importer.service_layer.confirm_import import (
    ConfirmChoice,
    ConfirmRejected,
    ImportNotFound,
    ImportStateConflict,
)
from services.importer.service_layer.feedback_report import XLSX_CONTENT_TYPE, stored_item
from services.importer.service_layer.messages_text import locale_of
from services.importer.service_layer.prepare_import import Upload, UploadTooLarge
from shared import topics
from shared.auth import Caller
from shared.bounds import INT_MAX
from shared.contacts_client import ContactsApiError
from shared.events import StartImport
from shared.http_api import CallerDep, DepsDep, newest_first_cursor, parse_newest_first_cursor
from shared.kafka import publish_event

router = APIRouter(prefix="/v1/imports", tags=["imports"])

# Room for the multipart envelope around the file, for the early Content-Length check.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Feedback codes (docs/feedback-codes.md) are lowercase words joined by underscores.
FEEDBACK_CODE_PATTERN = "^[a-z]+(_[a-z]+)*$"
_FEEDBACK_CURSOR = re.compile("([0-9]{1,10}):([0-9]{1,10})")


def _locale(accept_language: Annotated[str | None, Header()] = None) -> str:
    return locale_of(accept_language)


LocaleDep = Annotated[str, Depends(_locale)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Prepare an import: upload the file (multipart `file`, optional `sheet_name`).",
    responses={413: {"description": "The file is over the size limit."}, 422: {"description": "The file is refused."}},
)
async def prepare_import(request: Request, caller: CallerDep, deps: DepsDep, locale: LocaleDep) -> Any:
    limit = deps.settings.max_upload_bytes
    too_large = UploadTooLarge(limit)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD_BYTES:
        return _error(413, "upload_too_large", too_large.message(locale))
    try:
        form = StreamingFormUpload(request.headers.get("content-type", ""), request.stream())
        upload = Upload(file_name=lambda: form.file_name, chunks=form.file_chunks(), form_value=form.form_value)
        prepared = await deps.prepare(caller, upload, locale)
    except MalformedUpload as exc:
        return _error(400, "malformed_upload", str(exc))
    except UploadTooLarge:
        return _error(413, "upload_too_large", too_large.message(locale))
    except ContactsApiError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the contacts service is unavailable, try again"
        ) from exc
    if prepared.rejection is not None:
        rejection = prepared.rejection
        return JSONResponse(
            {
                "import_id": str(prepared.record.import_id),
                "state": prepared.record.state,
                "code": rejection.code,
                "message": rejection.message(locale),
                "row": rejection.row,
                "column": rejection.column,
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return JSONResponse(ImportView.of(prepared.record).model_dump(mode="json"), status_code=201)


@router.get("", summary="The Imports page: newest first.")
async def list_imports(
    caller: CallerDep,
    deps: DepsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ImportPage:
    before = parse_newest_first_cursor(cursor) if cursor else None
    records = await deps.repository.list_newest_first(caller.account_id, limit, before)
    next_cursor = None
    if len(records) == limit:
        last = records[-1]
        next_cursor = newest_first_cursor(last.created_at, last.import_id)
    return ImportPage(items=[ImportView.of(r) for r in records], next_cursor=next_cursor)


@router.get("/{import_id}", summary="One import: state, columns and mapping, counts, progress.")
async def get_import(import_id: uuid.UUID, caller: CallerDep, deps: DepsDep) -> ImportView:
    return ImportView.of(await _owned(deps, caller, import_id))


@router.post(
    "/{import_id}/confirm",
    status_code=status.HTTP_202_ACCEPTED,
    summary='Confirm the fields, tag and options ("Finalizar importação"): runs validation.',
)
async def confirm_import(
    import_id: uuid.UUID, body: ConfirmRequest, caller: CallerDep, deps: DepsDep, locale: LocaleDep
) -> Any:
    choice = ConfirmChoice(fields=body.fields, tag=body.tag, options=body.options.to_domain())
    try:
        record = await deps.confirm(caller.account_id, import_id, choice, locale)
    except ImportNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "import not found") from None
    except ImportStateConflict as exc:
        return _error(
            409, "import_not_confirmable", f"the import is {exc.state}: it can be confirmed when prepared or validated"
        )
    except ConfirmRejected as exc:
        return JSONResponse(
            {
                "code": "invalid_confirmation",
                "message": str(exc),
                "problems": [_problem(p) for p in exc.problems],
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except ContactsApiError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the contacts service is unavailable, try again"
        ) from exc
    return JSONResponse(ImportView.of(record).model_dump(mode="json"), status_code=202)


@router.get("/{import_id}/feedback", summary="Errors and warnings found by validation, in sheet order.")
async def list_feedback(
    import_id: uuid.UUID,
    caller: CallerDep,
    deps: DepsDep,
    locale: LocaleDep,
    severity: Annotated[str | None, Query(pattern="^(error|warning)$")] = None,
    row: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    code: Annotated[str | None, Query(pattern=FEEDBACK_CODE_PATTERN, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> FeedbackPage:
    await _owned(deps, caller, import_id)
    after = _decode_feedback_cursor(cursor) if cursor else None
    page = await deps.results.feedback_page(import_id, limit=limit, after=after, severity=severity, row=row, code=code)
    items = [
        FeedbackView(
            severity=s.severity,
            code=s.code,
            row=s.row_number,
            column=s.column_letter,
            header=s.header,
            field=s.field_key,
            value=s.value,
            message=stored_item(s).message(locale),
        )
        for s in page
    ]
    next_cursor = f"{page[-1].row_number or 0}:{page[-1].seq}" if len(page) == limit else None
    return FeedbackPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{import_id}/report",
    summary="Download the sheet's rows with their messages (XLSX).",
    response_class=FileResponse,
)
async def download_report(import_id: uuid.UUID, caller: CallerDep, deps: DepsDep, locale: LocaleDep) -> FileResponse:
    record = await _owned(deps, caller, import_id)
    if record.state in ("uploaded", "prepared", "validating") or record.rows_total is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"the import is {record.state}: the report exists after validation"
        )
    path = await deps.report.build(record, locale)
    stem = record.file_name.rsplit(".", 1)[0] or "importacao"
    name = f"{stem}-{'report' if locale == 'en' else 'mensagens'}.xlsx"
    return FileResponse(
        path,
        media_type=XLSX_CONTENT_TYPE,
        filename=name,
        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
    )


@router.post(
    "/{import_id}/start",
    status_code=status.HTTP_202_ACCEPTED,
    summary='Start the import ("Iniciar importação"): publishes contacts.import.start; '
    "repeating it starts nothing new.",
)
async def start_import(import_id: uuid.UUID, caller: CallerDep, deps: DepsDep) -> StartAccepted:
    record = await _owned(deps, caller, import_id)
    startable = (record.state == "validated" and record.ready_to_start) or record.state == "running"
    if startable:
        command = StartImport(account_id=caller.account_id, import_id=import_id, requested_by=caller.requested_by)
        await publish_event(deps.broker, deps.source, topics.IMPORT_START, str(import_id), command)
    return StartAccepted(import_id=import_id, state=record.state, accepted=startable)


async def _owned(deps: Any, caller: Caller, import_id: uuid.UUID) -> ImportRecord:
    record: ImportRecord | None = await deps.repository.get(caller.account_id, import_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "import not found")
    return record


def _error(status_code: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status_code)


def _problem(p: Any) -> dict[str, Any]:
    return {"code": p.code, "message": p.message, "field": p.field, "column": p.column}


def _decode_feedback_cursor(cursor: str) -> tuple[int, int]:
    """`row:seq` as `list_feedback` writes it (row 0: file-level items); both are integer
    columns, whose bounds PostgreSQL would refuse past with an error rather than a page."""
    match = _FEEDBACK_CURSOR.fullmatch(cursor)
    if match is not None:
        row, seq = int(match[1]), int(match[2])
        if row <= INT_MAX and seq <= INT_MAX:
            return row, seq
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid cursor")
