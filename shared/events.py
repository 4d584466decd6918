"""One model per event and command of CONTRACT.md (the `data` of each CloudEvent).

Fields may be added freely; none is removed or renamed without a new version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared import topics
from shared.bounds import INT_MAX, DatabaseId, StorableText
from shared.selection import Selection


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class Locale(StrEnum):
    PT_BR = "pt-BR"
    EN = "en"


class _Data(BaseModel):
    # Consumers must tolerate fields added later (CONTRACT.md).
    model_config = ConfigDict(extra="allow")

    account_id: DatabaseId = Field(description="The account (tenant) the job belongs to.", examples=[42])


# --- export -------------------------------------------------------------------------


class ExportRequested(_Data):
    """Command: build a file of the selected contacts."""

    export_id: uuid.UUID = Field(description="Chosen by the requester; a repeat with the same id is the same export.")
    requested_by: StorableText = Field(
        description="Who asked (user email or client id).", examples=["ana@example.com.br"]
    )
    format: ExportFormat
    selection: Selection
    fields: list[StorableText] | None = Field(
        None, description="Field keys, in column order; default: every field.", examples=[["id", "name", "emails"]]
    )
    locale: Locale = Locale.PT_BR


class ExportReady(_Data):
    """Event: the file is in object storage and can be downloaded."""

    export_id: uuid.UUID
    format: ExportFormat
    row_count: int
    file_name: str = Field(examples=["contatos-2026-11-30-1530.csv"])
    bucket: str
    object_key: str
    size_bytes: int
    download_url: str = Field(description="Pre-signed GET URL.")
    expires_at: datetime = Field(description="When `download_url` stops working.")


class ExportFailed(_Data):
    export_id: uuid.UUID | None = None
    code: str = Field(examples=["xlsx_too_many_rows"])
    message: str = Field(description="What went wrong, for a user.")


# --- import -------------------------------------------------------------------------


class ImportColumn(BaseModel):
    index: int = Field(description="0-based position in the sheet.")
    header: str
    letter: str | None = Field(None, description="Column letter as the spreadsheet shows it (A, B, …).")
    suggested_field: str | None = Field(description="Field key the header maps to, or null: ignored.")


class ImportPrepared(_Data):
    import_id: uuid.UUID
    file_name: str
    row_count: int
    columns: list[ImportColumn]


class ImportValidated(_Data):
    import_id: uuid.UUID
    rows_total: int
    errors: int
    warnings: int
    ready_to_start: bool
    to_create: int | None = None
    to_update: int | None = None
    unchanged: int | None = None


class StartImport(_Data):
    """Command: apply a validated import."""

    import_id: uuid.UUID
    requested_by: StorableText


class ValidateImport(_Data):
    """Internal command of the importer: validate the import as confirmed."""

    import_id: uuid.UUID
    confirm_version: int = Field(ge=0, le=INT_MAX, description="Stale versions (re-confirmed since) are ignored.")


class ImportProgress(_Data):
    import_id: uuid.UUID
    rows_done: int
    rows_total: int


class ImportFinished(_Data):
    import_id: uuid.UUID
    created: int
    updated: int
    unchanged: int
    skipped: int
    failed: int


class ImportFailed(_Data):
    import_id: uuid.UUID | None = None
    code: str
    message: str


TOPIC_MODELS: dict[str, type[_Data]] = {
    topics.EXPORT_REQUESTED: ExportRequested,
    topics.EXPORT_READY: ExportReady,
    topics.EXPORT_FAILED: ExportFailed,
    topics.IMPORT_PREPARED: ImportPrepared,
    topics.IMPORT_VALIDATED: ImportValidated,
    topics.IMPORT_START: StartImport,
    topics.IMPORT_VALIDATE: ValidateImport,
    topics.IMPORT_PROGRESS: ImportProgress,
    topics.IMPORT_FINISHED: ImportFinished,
    topics.IMPORT_FAILED: ImportFailed,
}
