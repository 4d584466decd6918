"""The report download: the sheet's rows as uploaded, with a column of their messages,
as an XLSX the user can fix and import again. Built in a temporary file with openpyxl's
write-only mode (constant memory), the feedback merged in row order."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from services.importer.adapters.import_repository import ImportRecord
from services.importer.adapters.validation_store import StoredFeedback, ValidationStore
from services.importer.domain.feedback import FeedbackItem, Severity
from services.importer.domain.readers import ReaderLimits, open_sheet
from services.importer.domain.sheet import FormulaWithoutValue, RawRow
from services.importer.service_layer.ports import FileStore
from shared.ooxml import encode_xstring_underscores

ROWS_PER_STEP = 1000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stored_item(stored: StoredFeedback) -> FeedbackItem:
    return FeedbackItem(
        severity=Severity(stored.severity),
        code=stored.code,
        row_number=stored.row_number,
        column=stored.column_letter,
        header=stored.header,
        field_key=stored.field_key,
        value=stored.value,
        params=stored.params,
    )


@dataclass
class FeedbackReport:
    results: ValidationStore
    store: FileStore
    limits: ReaderLimits
    temp_dir: str | None = None

    async def build(self, record: ImportRecord, locale: str) -> Path:
        """Writes the report; the caller deletes the returned file's folder."""
        folder = Path(tempfile.mkdtemp(prefix="report-", dir=self.temp_dir))
        upload = folder / "upload"
        await self.store.download_to_file(record.object_key, upload)
        reader = await asyncio.to_thread(open_sheet, upload, sheet_name=record.sheet_name, limits=self.limits)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Mensagens" if locale != "en" else "Messages")
        try:
            header = [_as_written(text) for text in reader.info.header]
            sheet.append([*header, "Mensagens" if locale != "en" else "Messages"])
            rows = reader.rows()
            messages = _RowMessages(self.results.feedback_in_row_order(record.import_id), locale)
            while batch := await asyncio.to_thread(_take, rows, ROWS_PER_STEP):
                out = []
                for row in batch:
                    texts = await messages.for_row(row.row_number)
                    out.append((row, "\n".join(texts)))
                await asyncio.to_thread(_append_rows, sheet, out)
        finally:
            reader.close()
        path = folder / "report.xlsx"
        await asyncio.to_thread(workbook.save, path)
        upload.unlink(missing_ok=True)
        return path


class _RowMessages:
    """Merges feedback (in row order) with the sheet's rows (in row order)."""

    def __init__(self, items: AsyncIterator[StoredFeedback], locale: str) -> None:
        self._items = items
        self._locale = locale
        self._next: StoredFeedback | None = None
        self._started = False

    async def for_row(self, row_number: int) -> list[str]:
        if not self._started:
            self._started = True
            self._next = await anext(self._items, None)
        texts = []
        while self._next is not None and (self._next.row_number or 0) <= row_number:
            if self._next.row_number == row_number:
                texts.append(stored_item(self._next).message(self._locale))
            self._next = await anext(self._items, None)
        return texts


def _take(rows: Iterator[RawRow], n: int) -> list[RawRow]:
    return list(islice(rows, n))


def _append_rows(sheet: WriteOnlyWorksheet, rows: list[tuple[RawRow, str]]) -> None:
    for row, text in rows:
        sheet.append([_cell(sheet, value) for value in row.cells] + [_as_written(text) or None])


def _as_written(text: str) -> str:
    """Text as the file held it, in a form openpyxl accepts: characters XML cannot carry
    (NUL, other controls: openpyxl refuses them) are written as the `_xHHHH_` escapes
    they were read from, so the report shows them and re-importing it finds them again.
    openpyxl writes text as is, so a literal `_xHHHH_` is protected as the export does."""
    if "_x" in text:
        text = encode_xstring_underscores(text)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    return text


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, FormulaWithoutValue):
        return "=" + value.formula.lstrip("=")
    if isinstance(value, str):
        value = _as_written(value)
    if isinstance(value, str) and value.startswith("="):
        # Text that looks like a formula stays text, as it was in the file.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, datetime | date | time | str | int | float | bool) or value is None:
        return value
    return str(value)
