"""What a spreadsheet reader hands to validation: rows of raw cells with the positions a
spreadsheet program shows (row 2 is the first contact; column letters A, B, …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from shared.bounds import NUL

REPLACEMENT_CHARACTER = "\ufffd"  # "�"


class FileFormat(StrEnum):
    XLSX = "xlsx"  # also XLSM: the same container
    XLS = "xls"  # legacy BIFF
    CSV = "csv"  # also TSV / TXT


class FormulaWithoutValue:
    """A formula cell whose file holds no cached result (saved by a program that does not
    compute, e.g. a script): validation reports it as an error for that cell."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __repr__(self) -> str:
        return f"FormulaWithoutValue({self.formula!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FormulaWithoutValue) and other.formula == self.formula

    def __hash__(self) -> int:
        return hash(self.formula)


# A cell as read: CSV gives text only (already un-escaped from the export's formula
# protection); XLSX and XLS give typed values. None is an empty cell.
CellValue = str | int | float | bool | datetime | date | time | FormulaWithoutValue | None


def without_nul(text: str) -> str:
    """Text from the file that the importer shows and stores (headers, sheet names, a
    cell quoted in feedback), with NUL shown as "�": PostgreSQL's text and jsonb cannot
    hold NUL. Never for contact data: a cell holding NUL is an error (`nul_character`)."""
    return text.replace(NUL, REPLACEMENT_CHARACTER) if NUL in text else text


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as spreadsheet programs name columns)."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(slots=True)  # not frozen: made for every row, and frozen init is twice as slow
class RawRow:
    row_number: int  # as the spreadsheet shows it; the header is row 1 (or the row it is on)
    cells: tuple[CellValue, ...]


@dataclass(frozen=True, slots=True)
class ExportMetadata:
    """What an XLSX exported by this product carries out of the user's way."""

    export_id: str
    field_keys: tuple[str | None, ...]  # per column, in the sheet's column order


@dataclass(frozen=True, slots=True)
class SheetInfo:
    format: FileFormat
    sheet_names: tuple[str, ...]  # visible sheets, in workbook order
    sheet_name: str | None  # the one being read (None for CSV)
    header: tuple[str, ...]
    header_row_number: int
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    export_metadata: ExportMetadata | None = None
