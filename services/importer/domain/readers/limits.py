"""How much of a file the readers accept: the bounds that keep a hostile file cheap."""

from __future__ import annotations

from dataclasses import dataclass

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    # Data rows (after the header, empty rows not counted): Excel's own sheet size.
    max_rows: int = EXCEL_MAX_ROWS
    # Columns up to the last non-empty cell; trailing empty columns are not columns.
    max_columns: int = 500
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS
    # XLSX: checked on the zip's central directory before anything is inflated.
    max_uncompressed_bytes: int = 1024 * MIB
    max_compression_ratio: float = 100.0
    # Small members may compress better than the ratio (a 5 kB styles part of repeated
    # XML); they cannot hurt, so the ratio applies from this size up.
    ratio_check_from_bytes: int = 1 * MIB
    max_zip_members: int = 10_000
    # XLS is read whole by xlrd (BIFF is not streamable): its size is bounded instead.
    max_xls_bytes: int = 50 * MIB
    # CSV: a physical line longer than this is refused unread past it. It bounds memory
    # (the csv module makes a string per field: a line of 2 M one-character fields that
    # are not interned, `;€`, peaks at ~225 MiB; docs/reliability.md section 7) and is far
    # above any real line (20 columns of contact data are ~500 characters).
    max_csv_line_chars: int = 4 * MIB
