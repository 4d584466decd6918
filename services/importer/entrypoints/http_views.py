"""What the importer's HTTP API returns and accepts (the OpenAPI document shows these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.importer.adapters.import_repository import ImportRecord
from services.importer.domain.validation_setup import ValidationOptions
from shared.bounds import StorableText


class ColumnView(BaseModel):
    index: int = Field(description="0-based position in the sheet.")
    header: str
    letter: str | None = Field(description="Column letter (XLSX/XLS); null for CSV.")
    suggested_field: str | None = Field(description="Field key suggested for the column, or null: ignored.")
    source: str | None = Field(description="Why: remembered, export_metadata, label, key, custom_label, alias.")
    confirmed_field: str | None = Field(None, description="Field key confirmed for the column.")


class SheetView(BaseModel):
    format: str | None
    name: str | None
    names: list[str]
    row_count: int | None


class CountsView(BaseModel):
    rows: int
    errors: int
    warnings: int
    rows_with_errors: int
    to_create: int
    to_update: int
    unchanged: int
    conflicts_skipped: int
    field_changes: dict[str, int] = Field(description="Field key → rows whose value changes.")


class ProgressView(BaseModel):
    batches_done: int
    batches_total: int | None
    rows_done: int


class ResultView(BaseModel):
    created: int
    updated: int
    unchanged: int
    skipped: int
    failed: int


class ErrorView(BaseModel):
    code: str
    message: str
    row: int | None = None
    column: str | None = None


class ImportView(BaseModel):
    import_id: uuid.UUID
    state: str = Field(
        description="uploaded → prepared → validating → validated → running → "
        "completed | completed_with_errors | failed"
    )
    file_name: str
    size_bytes: int
    requested_by: str
    sheet: SheetView
    columns: list[ColumnView]
    tag: str | None
    options: dict[str, Any] | None
    counts: CountsView | None = Field(description="After validation.")
    ready_to_start: bool
    progress: ProgressView | None = Field(description="While running and after.")
    result: ResultView | None = Field(description="When completed.")
    error: ErrorView | None
    created_at: datetime
    validated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, r: ImportRecord) -> ImportView:
        confirmed = r.columns_by_index
        counts = None
        if r.state != "validating" and r.rows_total is not None:
            counts = CountsView(
                rows=r.rows_total,
                errors=r.errors or 0,
                warnings=r.warnings or 0,
                rows_with_errors=r.rows_with_errors or 0,
                to_create=r.to_create or 0,
                to_update=r.to_update or 0,
                unchanged=r.unchanged or 0,
                conflicts_skipped=r.conflicts_skipped or 0,
                field_changes=r.field_changes or {},
            )
        ran = r.started_at is not None
        finished = r.state in ("completed", "completed_with_errors")
        return cls(
            import_id=r.import_id,
            state=r.state,
            file_name=r.file_name,
            size_bytes=r.size_bytes,
            requested_by=r.requested_by,
            sheet=SheetView(format=r.file_format, name=r.sheet_name, names=r.sheet_names, row_count=r.row_count),
            columns=[
                ColumnView(
                    index=c["index"],
                    header=c["header"],
                    letter=c.get("letter"),
                    suggested_field=c.get("suggested_field"),
                    source=c.get("source"),
                    confirmed_field=confirmed.get(c["index"]),
                )
                for c in r.columns
            ],
            tag=r.tag,
            options=r.options,
            counts=counts,
            ready_to_start=r.ready_to_start,
            progress=ProgressView(batches_done=r.batches_done, batches_total=r.batches_total, rows_done=r.rows_done)
            if ran
            else None,
            result=ResultView(
                created=r.applied_created,
                updated=r.applied_updated,
                unchanged=r.applied_unchanged,
                skipped=r.applied_skipped,
                failed=r.applied_failed,
            )
            if finished
            else None,
            error=ErrorView(code=r.error_code, message=r.error_message or "", row=r.error_row, column=r.error_column)
            if r.error_code
            else None,
            created_at=r.created_at,
            validated_at=r.validated_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )


class ImportPage(BaseModel):
    items: list[ImportView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class ConfirmOptions(BaseModel):
    unknown_id: Literal["create", "error"] = Field(
        "create", description="A blank or unknown ID creates a contact (warning), or is an error."
    )
    ignore_empty_cells: bool = Field(False, description="Off: an empty cell clears the field.")
    validate_email: bool = True
    validate_phone: bool = True
    validate_recommended: bool = Field(True, description="Warn on empty ID, Nome, Sessão, Responsável, Jurídico.")
    skip_error_rows: bool = Field(False, description="Start applies the rows without errors.")
    skip_conflicts: bool = Field(False, description="Rows whose contact changed after the export are not applied.")

    def to_domain(self) -> ValidationOptions:
        return ValidationOptions(
            create_unknown_ids=self.unknown_id == "create",
            ignore_empty_cells=self.ignore_empty_cells,
            validate_emails=self.validate_email,
            validate_phones=self.validate_phone,
            warn_recommended_empty=self.validate_recommended,
            skip_rows_with_errors=self.skip_error_rows,
            skip_conflicts=self.skip_conflicts,
        )


class ConfirmRequest(BaseModel):
    fields: dict[int, str] | list[str] = Field(
        description='Either column index → field key (`{"0": "id", "1": "name"}`), or the '
        'field keys to import from the suggested mapping (`["name", "emails"]`). The ID and '
        "`Atualizado em` columns are always read when the sheet has them (never written).",
        examples=[{"0": "id", "1": "name", "2": "emails"}, ["name", "emails"]],
    )
    tag: StorableText | None = Field(None, description="Added to every contact the import creates or updates.")
    options: ConfirmOptions = Field(default_factory=ConfirmOptions)


class FeedbackView(BaseModel):
    severity: str
    code: str
    row: int | None = Field(description="As the spreadsheet shows it (2 = first contact); null: the file.")
    column: str | None = Field(description="Column letter (XLSX/XLS).")
    header: str | None
    field: str | None
    value: str | None = Field(description="The cell as found.")
    message: str


class FeedbackPage(BaseModel):
    items: list[FeedbackView]
    next_cursor: str | None


class StartAccepted(BaseModel):
    import_id: uuid.UUID
    state: str
    accepted: bool = Field(description="True when a start command was sent; false when the state makes it moot.")
