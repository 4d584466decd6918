"""What a CSV export asks the contacts service to render: the column plan.

The export decides what its file holds (columns and headers, locale, time zone, owner
labels, stage names); the contacts service, which owns the contacts, renders every
selected contact by that plan inside PostgreSQL, cell for cell as CsvExportWriter would
(see services/contacts/domain/csv_rendition.py). The header line stays here
(`csv_writer.csv_header`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.export.domain.columns import ExportColumn, normalize_locale
from services.export.domain.csv_writer import csv_delimiter
from shared.contacts_api import AccountContext, CellRendition, CsvColumn, SelectionCsvRequest
from shared.selection import Selection


def csv_rows_plan(
    selection: Selection,
    columns: Sequence[ExportColumn],
    context: AccountContext,
    locale: str | None = None,
) -> SelectionCsvRequest:
    """The plan of a CSV export's rows, with the labels the Python writer shows."""
    language = normalize_locale(locale)
    cells = [CsvColumn(key=c.key, type=c.field.type, custom=c.field.custom) for c in columns]
    rendition = CellRendition.of_account(context, cells, language)
    return SelectionCsvRequest(selection=selection, delimiter=csv_delimiter(language), **dict(rendition))
