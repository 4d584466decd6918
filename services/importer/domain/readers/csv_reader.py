"""CSV/TSV/TXT: streamed record by record with the csv module; memory stays bounded by
the limits whatever the file (a 1 GB line is refused after reading at most one line's
allowance, never whole)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.csv_encoding import (
    DECODE_ERRORS,
    INVALID_TEXT_MARK,
    detect_encoding,
    display_name,
)
from services.importer.domain.readers.csv_sniff import sniff_delimiter
from services.importer.domain.readers.limits import ReaderLimits
from services.importer.domain.readers.sheet_reader import SheetSource
from services.importer.domain.sheet import CellValue, FileFormat
from shared.cells import unescape_formula

_SAMPLE_BYTES = 64 * 1024


def open_csv(path: Path, limits: ReaderLimits) -> SheetSource:
    with path.open("rb") as file:
        head = file.read(_SAMPLE_BYTES)
        complete = not file.read(1)
    encoding = detect_encoding(path, head)
    decoder = codecs.getincrementaldecoder(encoding)(errors=DECODE_ERRORS)
    sample = decoder.decode(head, final=complete)
    if not complete:
        # The last line of the sample may be cut: leave it out of the sniffing.
        sample = sample[: max(sample.rfind("\n"), sample.rfind("\r")) + 1] or sample
    delimiter = sniff_delimiter(sample)

    def row_pass() -> Iterator[tuple[int, list[CellValue]]]:
        return _records(path, encoding, delimiter, limits)

    return SheetSource(
        format=FileFormat.CSV,
        row_pass=row_pass,
        column_name=csv_column_name,
        encoding=display_name(encoding),
        delimiter=delimiter,
    )


def csv_column_name(index: int, header: tuple[str, ...]) -> str:
    """CSV has no column letters: the header text, or the column number when blank."""
    if index < len(header) and header[index].strip():
        return header[index]
    return str(index + 1)


class _RecordProgress:
    """Shared between the line feeder and the record loop: which row is being read."""

    __slots__ = ("chars", "row")

    def __init__(self) -> None:
        self.row = 1  # the record being read, as the spreadsheet numbers it
        self.chars = 0  # characters fed to the current record so far


def _records(path: Path, encoding: str, delimiter: str, limits: ReaderLimits) -> Iterator[tuple[int, list[CellValue]]]:
    progress = _RecordProgress()
    max_cell = limits.max_cell_chars
    with path.open(encoding=encoding, errors=DECODE_ERRORS, newline="") as text:
        lines = _physical_lines(text, progress, delimiter, limits)
        # strict: a quote still open at the end of the file, or text after a closing
        # quote, is an error instead of a silently different row.
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=True)
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _csv_error(error, progress, limits) from error
            row = progress.row
            if len(record) > _TRIM_FROM:
                record = _without_trailing_empties(record)
            if progress.chars > max_cell:  # only then can one cell be too long
                _check_cell_lengths(record, row, max_cell)
            progress.row += 1
            progress.chars = 0
            # Export protects text cells against formula injection; undo it here.
            yield (
                row,
                [(unescape_formula(cell) if cell[0] == "'" else cell) if cell else None for cell in record],
            )


_TRIM_FROM = 64


def _without_trailing_empties(record: list[str]) -> list[str]:
    # Some tools pad every line with thousands of separators; trimming here, at C speed,
    # keeps such a file as cheap as its content (trailing empty columns are not columns).
    flags = list(map(bool, reversed(record)))
    try:
        return record[: len(record) - flags.index(True)]
    except ValueError:
        return []


def _physical_lines(text: TextIO, progress: _RecordProgress, delimiter: str, limits: ReaderLimits) -> Iterator[str]:
    limit = limits.max_csv_line_chars
    readline = text.readline
    while line := readline(limit + 1):
        if len(line) > limit:
            raise _overlong(line, progress.row, delimiter, limits)
        if "\x00" in line:
            raise FileRejected("nul_bytes", row=progress.row)
        if INVALID_TEXT_MARK in line:
            detail = display_name(text.encoding)
            raise FileRejected("invalid_encoding", row=progress.row, detail=detail)
        starts_record = progress.chars == 0
        progress.chars += len(line)
        if progress.chars > limit:  # a record of many lines: a quote that never closes
            raise FileRejected("cell_too_long", row=progress.row, limit=limits.max_cell_chars)
        if starts_record and len(line) > _WIDE_LINE and '"' not in line:
            line = _narrowed(line, progress.row, delimiter, limits)
        yield line


# The csv module makes a Python object of every cell of a record, tens of bytes each:
# a line of millions of separators made ~225 MiB before the column limit refused it, or
# before trailing empty cells were dropped. A line this wide that starts a record and has
# no quote (so every separator separates cells, and the line is the whole record) is
# looked at first with str methods. A line with quotes is left to the csv module.
_WIDE_LINE = 64 * 1024


def _narrowed(line: str, row: int, delimiter: str, limits: ReaderLimits) -> str:
    """The line without its trailing empty cells (no columns: `_without_trailing_empties`
    would drop them), or FileRejected when more cells remain than the column limit."""
    body = line.rstrip("\r\n")
    kept = body.rstrip(delimiter)
    if (last := kept.count(delimiter)) >= limits.max_columns:
        raise FileRejected("too_many_columns", row=row, column_index=last, limit=limits.max_columns)
    return line if len(kept) == len(body) else kept + line[len(body) :]


def _overlong(line: str, row: int, delimiter: str, limits: ReaderLimits) -> FileRejected:
    if line.count(delimiter) >= limits.max_columns:
        return FileRejected("too_many_columns", row=row, limit=limits.max_columns)
    return FileRejected("cell_too_long", row=row, limit=limits.max_cell_chars)


def _check_cell_lengths(record: list[str], row: int, max_cell: int) -> None:
    if max(map(len, record), default=0) <= max_cell:  # C speed on a record of 10^6 cells
        return
    for index, cell in enumerate(record):
        if len(cell) > max_cell:
            raise FileRejected("cell_too_long", row=row, column_index=index, limit=max_cell)


def _csv_error(error: csv.Error, progress: _RecordProgress, limits: ReaderLimits) -> Exception:
    reason = str(error)
    if "field limit" in reason:
        return FileRejected("cell_too_long", row=progress.row, limit=limits.max_cell_chars)
    # "unexpected end of data" (a quote open until the end of the file) and "',' expected
    # after '\"'" (text after a closing quote) both name the row where the cell began.
    return FileRejected("unbalanced_quotes", row=progress.row)
