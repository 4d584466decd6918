"""For every input: what a CSV writer wrote reads back equal; any bytes end in rows or
FileRejected, never another exception."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import open_sheet
from shared.cells import escape_formula

# Text a pt-BR user's cells hold, representable in Windows-1252 (no NUL, no lone CR
# which a spreadsheet never keeps in a cell).
_CP1252_TEXT = st.text(
    alphabet=st.characters(codec="cp1252", exclude_characters="\x00\r", exclude_categories=("Cc",)).filter(
        lambda c: c not in "\x1a"
    )
    | st.sampled_from(["\n", ";", ",", '"', "'", "=", "\t", "|", "ç", "ã"]),
    max_size=12,
)
_HEADER_CELL = st.from_regex(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9 ]{0,10}", fullmatch=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(_HEADER_CELL, min_size=2, max_size=6),
    data=st.data(),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_cell_grid_written_as_csv_reads_back_equal(
    header: list[str], data: st.DataObject, delimiter: str, encoding: str
) -> None:
    width = len(header)
    rows = data.draw(
        st.lists(
            st.lists(_CP1252_TEXT, min_size=width, max_size=width).filter(
                lambda row: any(cell.strip() for cell in row)
            ),
            min_size=1,
            max_size=8,
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "grid.csv"
        with path.open("w", encoding=encoding, newline="") as file:
            writer = csv.writer(file, delimiter=delimiter, quoting=csv.QUOTE_ALL)
            writer.writerow(header)
            writer.writerows([[escape_formula(cell) for cell in row] for row in rows])
        with open_sheet(path) as reader:
            assert reader.info.header == tuple(header)
            assert reader.info.delimiter == delimiter
            got = [(row.row_number, row.cells[:width]) for row in reader.rows()]
    expected = [(number, tuple(cell or None for cell in row)) for number, row in enumerate(rows, start=2) if any(row)]
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_any_bytes_end_in_rows_or_file_rejected(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.csv"
        path.write_bytes(content)
        try:
            with open_sheet(path) as reader:
                for row in reader.rows():
                    assert row.row_number >= 2
        except FileRejected as error:
            assert error.message("pt-BR")


@settings(max_examples=150, deadline=None)
@given(content=st.binary(min_size=1, max_size=300), keep=st.integers(0, 10_000))
def test_damaged_xlsx_ends_in_rows_or_file_rejected(content: bytes, keep: int) -> None:
    import openpyxl

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active.append(["ID", "Nome"])
        workbook.active.append([1, "Ana"])
        workbook.save(path)
        original = path.read_bytes()
        at = keep % len(original)
        path.write_bytes(original[:at] + content + original[at + len(content) :])
        try:
            with open_sheet(path) as reader:
                list(reader.rows())
        except FileRejected as error:
            assert error.message("en")
