"""Legacy XLS (BIFF) through xlrd. BIFF cannot be streamed (xlrd reads the whole
workbook stream), so the file size is bounded instead (`ReaderLimits.max_xls_bytes`).
Limitation: with formatting_info off xlrd does not read merged ranges, so merged cells in
an XLS are not detected (the value stays in the top-left cell, the others are empty)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path

import xlrd
import xlrd.xldate

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.detect import _Discard
from services.importer.domain.readers.limits import MIB, ReaderLimits
from services.importer.domain.readers.sheet_reader import SheetSource
from services.importer.domain.sheet import CellValue, FileFormat, column_letter, without_nul


def open_xls(path: Path, sheet_name: str | None, limits: ReaderLimits) -> SheetSource:
    if path.stat().st_size > limits.max_xls_bytes:
        raise FileRejected("file_too_large", kind="XLS", limit_mb=limits.max_xls_bytes // MIB)
    try:
        book = xlrd.open_workbook(str(path), on_demand=True, formatting_info=False, logfile=_Discard())
    except xlrd.XLRDError as error:
        if "encrypted" in str(error).lower():
            raise FileRejected("password_protected") from error
        raise FileRejected("corrupt_file", detail=f"XLS: {error}") from error
    except Exception as error:  # xlrd fails in many ways on a broken BIFF stream
        raise FileRejected("corrupt_file", detail=f"XLS: {error}") from error
    try:
        return _source(book, sheet_name, limits)
    except BaseException:
        book.release_resources()
        raise


def _source(book: xlrd.Book, sheet_name: str | None, limits: ReaderLimits) -> SheetSource:
    names = book.sheet_names()
    visibility = getattr(book, "_sheet_visibility", [0] * len(names))
    # BIFF names may hold NUL, which the import's record cannot store: the sheets go by
    # their shown names (see without_nul), on prepare and on every later pass alike.
    by_shown_name: dict[str, str] = {}
    for name, hidden in zip(names, visibility, strict=False):
        if not hidden:
            by_shown_name.setdefault(without_nul(name), name)
    visible = tuple(by_shown_name)
    if sheet_name is None:
        if not visible:
            raise FileRejected("empty_file")
        sheet_name = visible[0]
    elif sheet_name not in by_shown_name:
        listed = ", ".join(f"“{name}”" for name in visible)
        raise FileRejected("sheet_not_found", detail=sheet_name, sheets=listed)
    try:
        sheet = book.sheet_by_name(by_shown_name[sheet_name])
    except Exception as error:
        raise FileRejected("corrupt_file", detail=f"XLS sheet: {error}") from error

    def row_pass() -> Iterator[tuple[int, list[CellValue]]]:
        return _rows(sheet, book.datemode, limits.max_cell_chars)

    return SheetSource(
        format=FileFormat.XLS,
        row_pass=row_pass,
        column_name=lambda index, _header: column_letter(index),
        sheet_names=visible,
        sheet_name=sheet_name,
        close=book.release_resources,
    )


def _rows(sheet: xlrd.sheet.Sheet, datemode: int, max_cell: int) -> Iterator[tuple[int, list[CellValue]]]:
    for index in range(sheet.nrows):
        types = sheet.row_types(index)
        values = sheet.row_values(index)
        cells: list[CellValue] = []
        for column, (kind, value) in enumerate(zip(types, values, strict=False)):
            cell = _cell(kind, value, datemode)
            if isinstance(cell, str) and len(cell) > max_cell:
                raise FileRejected("cell_too_long", row=index + 1, column_index=column, limit=max_cell)
            cells.append(cell)
        yield index + 1, cells


def _cell(kind: int, value: object, datemode: int) -> CellValue:
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return str(value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERR"))
    number = float(value)  # type: ignore[arg-type]
    if kind == xlrd.XL_CELL_DATE:
        return _date(number, datemode)
    # BIFF stores every number as a float; whole ones read as int, as XLSX gives them.
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _date(number: float, datemode: int) -> CellValue:
    try:
        moment = xlrd.xldate.xldate_as_datetime(number, datemode)
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return number
    # A time of day alone, as openpyxl gives it for XLSX.
    return time(moment.hour, moment.minute, moment.second) if 0 <= number < 1 else moment
