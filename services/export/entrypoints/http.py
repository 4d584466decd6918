"""HTTP routes of the export service (the Exports page)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from services.export.adapters.export_repository import ExportRecord
from shared import topics
from shared.auth import Caller
from shared.bounds import StorableText
from shared.events import ExportFormat, ExportRequested, Locale
from shared.http_api import CallerDep, DepsDep, newest_first_cursor, parse_newest_first_cursor
from shared.kafka import publish_event
from shared.selection import Selection

router = APIRouter(prefix="/v1/exports", tags=["exports"])


class ExportRequest(BaseModel):
    selection: Selection
    format: ExportFormat = ExportFormat.CSV
    fields: list[StorableText] | None = Field(None, description="Field keys, in column order; default: every field.")
    locale: Locale = Locale.PT_BR
    export_id: uuid.UUID | None = Field(
        None, description="Optional, chosen by the client: repeating a request with the same id is the same export."
    )


class ExportAccepted(BaseModel):
    export_id: uuid.UUID
    state: str


class ExportView(BaseModel):
    export_id: uuid.UUID
    state: str = Field(description="requested → running → ready | failed")
    format: ExportFormat
    locale: str
    requested_by: str
    selection: dict[str, Any]
    fields: list[str] | None
    row_count: int | None
    file_name: str | None
    size_bytes: int | None
    download_url: str | None = Field(description="Pre-signed; `/download` always gives a fresh one.")
    download_expires_at: datetime | None
    error_code: str | None
    error_message: str | None
    requested_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, record: ExportRecord) -> ExportView:
        return cls(
            export_id=record.export_id,
            state=record.state,
            format=ExportFormat(record.format),
            locale=record.locale,
            requested_by=record.requested_by,
            selection=record.selection,
            fields=record.fields,
            row_count=record.row_count,
            file_name=record.file_name,
            size_bytes=record.size_bytes,
            download_url=record.download_url,
            download_expires_at=record.download_expires_at,
            error_code=record.error_code,
            error_message=record.error_message,
            requested_at=record.requested_at,
            finished_at=record.finished_at,
        )


class ExportPage(BaseModel):
    items: list[ExportView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Request an export (published as contacts.export.requested).",
)
async def request_export(body: ExportRequest, caller: CallerDep, deps: DepsDep) -> ExportAccepted:
    command = ExportRequested(
        account_id=caller.account_id,
        export_id=body.export_id or uuid.uuid4(),
        requested_by=caller.requested_by,
        format=body.format,
        selection=body.selection,
        fields=body.fields,
        locale=body.locale,
    )
    record = await deps.repository.register(command)
    if record.account_id != caller.account_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "this export id is taken; choose another")
    await publish_event(
        deps.broker, deps.settings.event_source, topics.EXPORT_REQUESTED, str(command.export_id), command
    )
    return ExportAccepted(export_id=record.export_id, state=record.state)


@router.get("", summary="The Exports page: newest first.")
async def list_exports(
    caller: CallerDep,
    deps: DepsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ExportPage:
    before = parse_newest_first_cursor(cursor) if cursor else None
    records = await deps.repository.list_newest_first(caller.account_id, limit, before)
    next_cursor = None
    if len(records) == limit:
        last = records[-1]
        next_cursor = newest_first_cursor(last.requested_at, last.export_id)
    return ExportPage(items=[ExportView.of(r) for r in records], next_cursor=next_cursor)


@router.get("/{export_id}", summary="One export and its state.")
async def get_export(export_id: uuid.UUID, caller: CallerDep, deps: DepsDep) -> ExportView:
    return ExportView.of(await _owned(deps, caller, export_id))


@router.get(
    "/{export_id}/download",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    summary="Redirect to a fresh pre-signed URL of the file.",
    response_class=RedirectResponse,
)
async def download_export(export_id: uuid.UUID, caller: CallerDep, deps: DepsDep) -> RedirectResponse:
    record = await _owned(deps, caller, export_id)
    if record.state != "ready" or record.object_key is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the export is {record.state}, not ready")
    ttl = timedelta(seconds=deps.settings.download_url_ttl_s)
    url = deps.store.presigned_get_url(record.object_key, ttl, record.file_name)
    return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)


async def _owned(deps: Any, caller: Caller, export_id: uuid.UUID) -> ExportRecord:
    record: ExportRecord | None = await deps.repository.get(caller.account_id, export_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "export not found")
    return record
