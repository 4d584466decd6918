"""What one validation run is configured with: the confirmed columns and the options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.sheet import column_letter
from shared.contacts_api import AccountContext
from shared.fields import FieldSpec


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    # Blank or unknown ID: create a contact (warning), or refuse the row (error).
    create_unknown_ids: bool = True
    # Off (default): an empty cell in a confirmed field clears that field.
    ignore_empty_cells: bool = False
    validate_emails: bool = True
    validate_phones: bool = True
    warn_recommended_empty: bool = True
    # Start applies the rows without errors instead of refusing to start.
    skip_rows_with_errors: bool = False
    # Rows whose contact changed after the export are not applied.
    skip_conflicts: bool = False


@dataclass(frozen=True, slots=True)
class ConfirmedColumn:
    index: int
    header: str
    column: str | None  # letter, or None for CSV
    spec: FieldSpec


@dataclass(frozen=True, slots=True)
class ValidationSetup:
    """`columns` is the confirmed column index → field key mapping. Include the `id` and
    `updated_at` columns whenever the sheet has them, even if the user did not tick them:
    they key the rows and detect conflicts, and are never written (nor is `created_at`)."""

    account: AccountContext
    columns: Mapping[int, str]
    headers: Sequence[str]
    with_letters: bool  # XLSX/XLS name columns by letter; CSV by header only
    sheet_locale: str
    options: ValidationOptions = field(default_factory=ValidationOptions)
    # CSV: every cell is the text as written, so an untouched one equals the text the
    # export writes for the stored value (XLSX and XLS cells are typed).
    text_cells: bool = False

    def confirmed_columns(self, fields: AccountFields) -> list[ConfirmedColumn]:
        confirmed = []
        for index, key in sorted(self.columns.items()):
            spec = fields.get(key)
            if spec is None:
                raise ValueError(f"unknown field {key!r}: check the mapping first")
            header = self.headers[index] if index < len(self.headers) else ""
            letter = column_letter(index) if self.with_letters else None
            confirmed.append(ConfirmedColumn(index, header, letter, spec))
        return confirmed
