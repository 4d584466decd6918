"""Reading uploaded spreadsheets (XLSX/XLSM, XLS, CSV) from a local file into rows of raw
cells, refusing bad and hostile files with a `FileRejected` that tells the user what to do.

    reader = open_sheet(path)          # detects the format from the content
    reader.info.header                 # ("ID", "Nome", …)
    for row in reader.rows(): ...      # RawRow(row_number=2, cells=(…))
"""

from __future__ import annotations

import os
from pathlib import Path

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.csv_reader import open_csv
from services.importer.domain.readers.detect import detect_format
from services.importer.domain.readers.limits import ReaderLimits
from services.importer.domain.readers.sheet_reader import SheetReader
from services.importer.domain.readers.xls_reader import open_xls
from services.importer.domain.readers.xlsx_reader import open_xlsx
from services.importer.domain.sheet import FileFormat

__all__ = ["FileRejected", "ReaderLimits", "SheetReader", "detect_format", "open_sheet"]


def open_sheet(
    path: str | os.PathLike[str],
    *,
    sheet_name: str | None = None,
    limits: ReaderLimits | None = None,
) -> SheetReader:
    """The sheet to import: `sheet_name`, or the first visible sheet. CSV has one sheet
    and ignores the name. Raises FileRejected, and only that, for a bad file."""
    limits = limits or ReaderLimits()
    path = Path(path)
    file_format = detect_format(path, limits)
    if file_format is FileFormat.XLSX:
        source = open_xlsx(path, sheet_name, limits)
    elif file_format is FileFormat.XLS:
        source = open_xls(path, sheet_name, limits)
    else:
        source = open_csv(path, limits)
    return SheetReader(source, limits)
