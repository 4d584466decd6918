"""The reader every format ends in: a header, then data rows, with the limits applied
the same way whatever the file format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.limits import ReaderLimits
from services.importer.domain.sheet import (
    CellValue,
    ExportMetadata,
    FileFormat,
    FormulaWithoutValue,
    RawRow,
    SheetInfo,
    without_nul,
)

# A pass over the sheet: (row number as shown, cells from column A). Rows may be empty
# or have trailing empty cells; the reader trims them.
RowPass = Callable[[], Iterator[tuple[int, list[CellValue]]]]
# How a message names a column: (0-based index, header) → "C" or "E-mail".
ColumnNamer = Callable[[int, tuple[str, ...]], str]


@dataclass(slots=True)
class SheetSource:
    """What a format reader found before reading rows."""

    format: FileFormat
    row_pass: RowPass
    column_name: ColumnNamer
    sheet_names: tuple[str, ...] = ()
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    export_metadata: ExportMetadata | None = None
    close: Callable[[], None] = field(default=lambda: None)


def used_width(cells: list[CellValue]) -> int:
    """Columns up to the last non-empty cell: trailing empty columns are not columns.
    (Format readers give every empty cell as None, never "".)"""
    width = len(cells)
    while width and cells[width - 1] is None:
        width -= 1
    return width


class SheetReader:
    """One sheet of an uploaded file: `info` (header, format, …) and `rows()`.

    `rows()` starts a new pass over the file each time it is called and streams the
    data rows: empty rows are skipped (a spreadsheet shows them but they hold no
    contact) while every row keeps the number the spreadsheet shows. Each row has at
    least as many cells as the header; a row is longer only when it has non-empty cells
    right of the header.
    """

    def __init__(self, source: SheetSource, limits: ReaderLimits) -> None:
        self._source = source
        self._limits = limits
        try:
            self.info = self._read_info()
        except BaseException:
            source.close()
            raise

    def rows(self) -> Iterator[RawRow]:
        header_width = len(self.info.header)
        max_columns, max_rows = self._limits.max_columns, self._limits.max_rows
        data_rows = 0
        rows = self._source.row_pass()
        try:
            for row_number, cells in rows:
                if row_number <= self.info.header_row_number:
                    continue
                width = len(cells)
                while width and cells[width - 1] is None:  # used_width(), inlined: hot
                    width -= 1
                if not width:
                    continue
                if width > max_columns:
                    self._check_width(row_number, width)
                data_rows += 1
                if data_rows > max_rows:
                    raise FileRejected("too_many_rows", row=row_number, limit=max_rows)
                # Exactly the header's width, or up to the last non-empty cell beyond it.
                target = width if width > header_width else header_width
                if len(cells) < target:
                    cells.extend([None] * (target - len(cells)))
                elif len(cells) > target:
                    del cells[target:]
                yield RawRow(row_number, tuple(cells))
        except FileRejected as error:
            self._name_column(error, self.info.header)
            raise
        finally:
            rows.close()  # type: ignore[attr-defined]

    def count_rows(self) -> int:
        """Data rows (empty rows not counted), by a full pass with every check applied."""
        return sum(1 for _ in self.rows())

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> SheetReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_info(self) -> SheetInfo:
        source = self._source
        rows = source.row_pass()
        try:
            first = next(rows, None)
            if first is None:
                raise FileRejected("empty_file")
            row_number, cells = first
            width = used_width(cells)
            if row_number != 1 or not width:
                # Row 1 must name the columns; content further down means no header.
                if not any(used_width(later) for _, later in rows):
                    raise FileRejected("empty_file")
                raise FileRejected("no_header", row=1)
            self._check_width(row_number, width)
            header = tuple(header_text(cell) for cell in cells[:width])
            if not any(used_width(later) for _, later in rows):
                raise FileRejected("header_only")
        except FileRejected as error:
            self._name_column(error, ())
            raise
        finally:
            rows.close()  # type: ignore[attr-defined]
        return SheetInfo(
            format=source.format,
            sheet_names=source.sheet_names,
            sheet_name=source.sheet_name,
            header=header,
            header_row_number=row_number,
            encoding=source.encoding,
            delimiter=source.delimiter,
            export_metadata=source.export_metadata,
        )

    def _check_width(self, row_number: int, width: int) -> None:
        limit = self._limits.max_columns
        if width > limit:
            raise FileRejected("too_many_columns", row=row_number, column_index=width - 1, limit=limit)

    def _name_column(self, error: FileRejected, header: tuple[str, ...]) -> None:
        # Format readers know a column's index; how the user sees it depends on the format
        # (a letter, or a CSV header) and, for CSV, on the header read first.
        index = error.params.get("column_index")
        if error.column is None and isinstance(index, int):
            error.column = self._source.column_name(index, header)


def header_text(cell: CellValue) -> str:
    """A header cell as text (a header can be a number or a date in XLSX). Headers are
    stored with the import (jsonb): a NUL in one shows as "�"."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return without_nul(cell)
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    if isinstance(cell, FormulaWithoutValue):
        return ""
    return str(cell)
