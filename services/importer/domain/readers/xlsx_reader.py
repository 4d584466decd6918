"""XLSX/XLSM: the chosen sheet streamed from the package, after the package was checked
(zip bomb guard in detection, merged cells before any row is handed out)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.limits import ReaderLimits
from services.importer.domain.readers.safe_xml import translate_errors
from services.importer.domain.readers.sheet_reader import SheetSource
from services.importer.domain.readers.xlsx_package import (
    Workbook,
    read_date_styles,
    read_shared_strings,
    read_workbook,
)
from services.importer.domain.readers.xlsx_sheet import merged_ranges, sheet_rows
from services.importer.domain.readers.zip_guard import open_guarded_zip
from services.importer.domain.sheet import CellValue, ExportMetadata, FileFormat, column_letter

METADATA_SHEET = "crm_bulk_meta"
_METADATA_MARK = "crm-bulk-export"
_METADATA_VERSION = "1"


def open_xlsx(path: Path, sheet_name: str | None, limits: ReaderLimits) -> SheetSource:
    archive = open_guarded_zip(path, limits)
    try:
        return _open(archive, sheet_name, limits)
    except BaseException:
        archive.close()
        raise


def _open(archive: zipfile.ZipFile, sheet_name: str | None, limits: ReaderLimits) -> SheetSource:
    with translate_errors("workbook"):
        workbook = read_workbook(archive)
    visible = workbook.visible_sheet_names
    part = _sheet_part(workbook, sheet_name)
    merged = merged_ranges(archive, part)
    if merged:
        raise FileRejected("merged_cells", detail=", ".join(merged))
    strings = read_shared_strings(archive, workbook.shared_strings_part)
    styles = read_date_styles(archive, workbook.styles_part)

    def rows_of(sheet_part: str) -> Iterator[tuple[int, list[CellValue]]]:
        return sheet_rows(
            archive, sheet_part, strings, styles, workbook.date1904, limits.max_cell_chars, limits.max_columns
        )

    chosen = next(sheet.name for sheet in workbook.sheets if sheet.part == part)
    return SheetSource(
        format=FileFormat.XLSX,
        row_pass=lambda: rows_of(part),
        column_name=lambda index, _header: column_letter(index),
        sheet_names=visible,
        sheet_name=chosen,
        export_metadata=_export_metadata(workbook, rows_of),
        close=archive.close,
    )


def _sheet_part(workbook: Workbook, sheet_name: str | None) -> str:
    visible = [sheet for sheet in workbook.sheets if sheet.state == "visible"]
    if sheet_name is None:
        if not visible:
            raise FileRejected("empty_file")
        return visible[0].part
    for sheet in visible:
        if sheet.name == sheet_name:
            return sheet.part
    names = ", ".join(f"“{sheet.name}”" for sheet in visible)
    raise FileRejected("sheet_not_found", detail=sheet_name, sheets=names)


def _export_metadata(
    workbook: Workbook, rows_of: Callable[[str], Iterator[tuple[int, list[CellValue]]]]
) -> ExportMetadata | None:
    """Our exports carry, in a very hidden sheet, the export id and the field key of each
    column: A1 "crm-bulk-export", B1 version; A2 "export_id", B2; A3 "field_keys", B3…"""
    meta = next((sheet for sheet in workbook.sheets if sheet.name == METADATA_SHEET), None)
    if meta is None:
        return None
    rows = rows_of(meta.part)
    try:
        found = dict(islice(rows, 3))
    finally:
        rows.close()  # type: ignore[attr-defined]
    mark, export_id, keys = (found.get(number, []) for number in (1, 2, 3))
    if _text(mark, 0) != _METADATA_MARK or _text(mark, 1) != _METADATA_VERSION:
        return None
    if _text(export_id, 0) != "export_id" or _text(keys, 0) != "field_keys":
        return None
    field_keys = tuple(_text(keys, index) or None for index in range(1, len(keys)))
    return ExportMetadata(export_id=_text(export_id, 1), field_keys=field_keys)


def _text(cells: list[CellValue], index: int) -> str:
    if index >= len(cells) or cells[index] is None:
        return ""
    value = cells[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
