"""Streams one worksheet part of an XLSX: rows of typed cells, with the cached value of
formula cells (or FormulaWithoutValue when the file has none).

Parsed with expat callbacks rather than openpyxl's read-only mode: one pass gives both
the cached value and the formula text (openpyxl needs two readers for that), the
`<dimension>` a file declares is never trusted, and it measured faster (bench/).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime

from openpyxl.formula.translate import Translator
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.limits import EXCEL_MAX_ROWS
from services.importer.domain.readers.safe_xml import (
    STREAM_CHUNK_BYTES,
    expat_parser,
    translate_errors,
)
from services.importer.domain.readers.xlsx_package import DateStyles, SharedStrings
from services.importer.domain.sheet import CellValue, FormulaWithoutValue, column_letter
from shared.ooxml import decode_xstring

XLSX_MAX_COLUMNS = 16_384  # XFD
_LETTERS_TO_INDEX: dict[str, int] = {}
_DIGITS = "0123456789"


def column_index(letters: str) -> int:
    index = _LETTERS_TO_INDEX.get(letters)
    if index is None:
        index = 0
        for letter in letters.upper():
            if not "A" <= letter <= "Z":
                raise FileRejected("corrupt_file", detail=f"cell reference {letters!r}")
            index = index * 26 + ord(letter) - 64
        index -= 1
        if not 0 <= index < XLSX_MAX_COLUMNS:
            raise FileRejected("corrupt_file", detail=f"column {letters!r} out of range")
        _LETTERS_TO_INDEX[letters] = index
    return index


class _SheetHandler:
    """expat callbacks; completed rows pile up in `ready` between chunks."""

    def __init__(
        self, strings: SharedStrings, styles: DateStyles, date1904: bool, max_cell: int, max_columns: int
    ) -> None:
        self.ready: list[tuple[int, list[CellValue]]] = []
        self._max_columns = max_columns
        self._strings = strings
        self._date_styles = styles.dates
        self._epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self._max_cell = max_cell
        self._row_number = 0
        self._cells: list[CellValue] = []
        self._column = -1
        self._type = "n"
        self._style = 0
        self._text: list[str] | None = None  # collecting character data
        self._value: str | None = None
        self._inline: list[str] | None = None
        self._formula: str | None = None
        self._formula_attrs: dict[str, str] = {}
        self._shared_formulas: dict[str, tuple[str, str]] = {}  # si → (formula, origin)
        self._phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            self._column = column_index(ref.rstrip(_DIGITS)) if ref else self._column + 1
            if self._column >= XLSX_MAX_COLUMNS:  # cells without references, past XFD
                raise FileRejected("corrupt_file", detail=f"row {self._row_number}: a cell past column XFD")
            self._type = attrs.get("t", "n")
            style = attrs.get("s")
            self._style = int(style) if style else 0
            self._value = self._inline = self._formula = None
        elif tag == "v" or tag == "f":
            self._text = []
            if tag == "f":
                self._formula_attrs = attrs
        elif tag == "row":
            ref = attrs.get("r")
            number = int(ref) if ref else self._row_number + 1
            # Spreadsheet programs write rows once each, in order, within Excel's rows.
            # Holding the XML to that bounds the work per sheet: without it, a sheet of
            # empty rows costs ~3 µs each, minutes of CPU for 1 GiB of `<row r="1"/>`.
            if not self._row_number < number <= EXCEL_MAX_ROWS:
                raise FileRejected("corrupt_file", detail=f"row number {number} after row {self._row_number}")
            self._row_number = number
            self._cells = []
            self._column = -1
        elif tag == "is":
            self._inline = []
        elif tag == "t" and self._inline is not None and not self._phonetic:
            self._text = []
        elif tag == "rPh":
            self._phonetic += 1

    def end(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            value = self._cell_value()
            if value is not None and value != "":
                if self._column >= self._max_columns:
                    # Here, not when the row is handed out: a row is a list from column
                    # A, and a few KB of rows with a cell in column XFD would be rows of
                    # 16,384 entries each before the reader saw the first.
                    raise FileRejected(
                        "too_many_columns", row=self._row_number, column_index=self._column, limit=self._max_columns
                    )
                cells = self._cells
                if self._column >= len(cells):
                    cells.extend([None] * (self._column - len(cells) + 1))
                cells[self._column] = value
        elif tag == "v":
            self._value = "".join(self._text or ())
            self._text = None
        elif tag == "f":
            self._formula = "".join(self._text or ())
            self._text = None
            self._remember_shared_formula()
        elif tag == "row":
            self.ready.append((self._row_number, self._cells))
        elif tag == "t" and self._text is not None and self._inline is not None:
            self._inline.append("".join(self._text))
            self._text = None
        elif tag == "rPh":
            self._phonetic -= 1

    def characters(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)

    def _cell_value(self) -> CellValue:
        kind, raw = self._type, self._value
        if raw == "" and kind != "str":
            raw = None  # openpyxl writes formulas with an empty <v/>: no cached value
        if raw is None:
            if self._inline is not None:
                return self._checked(decode_xstring("".join(self._inline)))
            if self._formula is not None:
                return FormulaWithoutValue(self._formula_text())
            return None
        if kind == "s":
            return self._checked(self._strings[int(raw)])
        if kind == "n":
            number: int | float = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            if self._style in self._date_styles:
                return self._as_date(number)
            return number
        if kind == "str" or kind == "inlineStr":
            return self._checked(decode_xstring(raw))
        if kind == "e":
            return self._checked(raw)  # the error as Excel shows it, e.g. "#N/A"
        if kind == "b":
            return raw == "1" or raw.lower() == "true"
        if kind == "d":
            try:
                return datetime.fromisoformat(raw)
            except ValueError:
                return raw
        raise FileRejected("corrupt_file", detail=f"cell type {kind!r}")

    def _as_date(self, number: float) -> CellValue:
        try:
            return from_excel(number, self._epoch)  # type: ignore[no-any-return]
        except (OverflowError, ValueError):
            return number  # outside the calendar: validation reports the number

    def _checked(self, text: str) -> str:
        if len(text) > self._max_cell:
            raise FileRejected(
                "cell_too_long",
                row=self._row_number,
                column_index=self._column,
                limit=self._max_cell,
            )
        return text

    def _remember_shared_formula(self) -> None:
        attrs = self._formula_attrs
        if attrs.get("t") == "shared" and self._formula:
            origin = f"{column_letter(self._column)}{self._row_number}"
            self._shared_formulas[attrs.get("si", "")] = (self._formula, origin)

    def _formula_text(self) -> str:
        formula = self._formula or ""
        attrs = self._formula_attrs
        if formula or attrs.get("t") != "shared":
            return "=" + formula
        master, origin = self._shared_formulas.get(attrs.get("si", ""), ("", ""))
        if not master:
            return "="
        here = f"{column_letter(self._column)}{self._row_number}"
        try:
            return str(Translator("=" + master, origin=origin).translate_formula(here))
        except Exception:  # openpyxl's tokenizer on an odd formula: show the master's
            return "=" + master


def sheet_rows(
    archive: zipfile.ZipFile,
    part: str,
    strings: SharedStrings,
    styles: DateStyles,
    date1904: bool,
    max_cell: int,
    max_columns: int,
) -> Iterator[tuple[int, list[CellValue]]]:
    """(row number, cells from column A) for every `<row>` of the part, as parsed; a
    value beyond `max_columns` is FileRejected("too_many_columns")."""
    handler = _SheetHandler(strings, styles, date1904, max_cell, max_columns)
    parser = expat_parser()
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.characters
    ready = handler.ready
    with translate_errors(part), archive.open(part) as stream:
        while True:
            chunk = stream.read(STREAM_CHUNK_BYTES)
            parser.Parse(chunk, not chunk)
            if ready:
                yield from ready
                ready.clear()
            if not chunk:
                return


_MERGE_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref="([^"]*)"')
_OVERLAP = 1024


def merged_ranges(archive: zipfile.ZipFile, part: str, limit: int = 10) -> list[str]:
    """Merged cell ranges listed in the part (they follow the rows, so the whole part is
    inflated and scanned as bytes, without parsing or keeping it)."""
    found: list[str] = []
    seen_until = 0  # absolute offset up to which matches were taken
    offset = 0  # absolute offset of `window`
    window = b""
    with translate_errors(part), archive.open(part) as stream:
        while chunk := stream.read(STREAM_CHUNK_BYTES):
            window += chunk
            for match in _MERGE_CELL.finditer(window):
                if offset + match.start() >= seen_until:
                    found.append(match.group(1).decode("ascii", errors="replace"))
                    seen_until = offset + match.end()
                    if len(found) >= limit:
                        return found
            keep = min(len(window), _OVERLAP)
            offset += len(window) - keep
            window = window[-keep:]
    return found
