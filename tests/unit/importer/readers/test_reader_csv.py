from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from readers_testkit import read_all

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import ReaderLimits, csv_reader, detect_format, open_sheet
from services.importer.domain.sheet import FileFormat, RawRow
from shared.cells import escape_formula

PT_BR = "ID;Nome;Cidade\r\n1;João;São Paulo\r\n2;Conceição;Maceió\r\n"
EXPECTED = [RawRow(2, ("1", "João", "São Paulo")), RawRow(3, ("2", "Conceição", "Maceió"))]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-bom"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),  # Excel's "Unicode text": UTF-16 LE with BOM
        ("utf-16-be", "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, reported: str) -> None:
    path = tmp_path / "c.csv"
    data = PT_BR.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path.write_bytes(data)
    with open_sheet(path) as reader:
        assert reader.info.format is FileFormat.CSV
        assert reader.info.encoding == reported
        assert reader.info.header == ("ID", "Nome", "Cidade")
        assert list(reader.rows()) == EXPECTED


def test_windows_1252_detected_even_when_the_first_accent_is_far_down(tmp_path: Path) -> None:
    lines = ["ID;Nome"] + [f"{n};Ana" for n in range(2, 20_000)] + ["20000;Fábio"]
    path = tmp_path / "c.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    with open_sheet(path) as reader:
        assert reader.info.encoding == "cp1252"
        assert list(reader.rows())[-1] == RawRow(20_000, ("20000", "Fábio"))


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["ID", "Nome", "Valor"], ["1", "Ana", "1.234,56"], ["2", "Bia; e Cia", "7,5"]]
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        import csv

        csv.writer(file, delimiter=delimiter).writerows(rows)
    with open_sheet(path) as reader:
        assert reader.info.delimiter == delimiter
        assert [list(row.cells) for row in reader.rows()] == rows[1:]


def test_tab_separated_unicode_text_as_excel_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("ID\tNome\r\n1\tJoão\r\n".encode("utf-16"))
    with open_sheet(path) as reader:
        assert (reader.info.delimiter, reader.info.encoding) == ("\t", "utf-16")
        assert list(reader.rows()) == [RawRow(2, ("1", "João"))]


def test_quotes_embedded_newlines_and_mixed_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b'ID;Obs;Nome\r\n1;"linha 1\r\nlinha 2";"Ana ""A"""\n2;"x;y";Bia\r3;;Carla\r\n')
    header, rows = read_all(path)
    assert header == ("ID", "Obs", "Nome")
    # Row numbers are records as a spreadsheet shows them, not physical lines.
    assert rows == [
        RawRow(2, ("1", "linha 1\r\nlinha 2", 'Ana "A"')),
        RawRow(3, ("2", "x;y", "Bia")),
        RawRow(4, ("3", None, "Carla")),
    ]


def test_empty_rows_are_skipped_but_row_numbers_stay_true(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("ID;Nome\r\n1;Ana\r\n\r\n;;\r\n4;Dora\r\n\r\n\r\n", encoding="utf-8")
    with open_sheet(path) as reader:
        assert list(reader.rows()) == [RawRow(2, ("1", "Ana")), RawRow(5, ("4", "Dora"))]
        assert reader.count_rows() == 2


def test_rows_are_padded_to_the_header_and_longer_only_with_content(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("ID;Nome;Tags;;\r\n1\r\n2;Bia;;;x;;\r\n", encoding="utf-8")
    header, rows = read_all(path)
    assert header == ("ID", "Nome", "Tags")
    assert rows == [RawRow(2, ("1", None, None)), RawRow(3, ("2", "Bia", None, None, "x"))]


def test_export_formula_escaping_is_undone_in_every_cell(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    cells = [["1", "=cmd", "'+x"], ["2", "@a", "it's"]]
    lines = [";".join(escape_formula(cell) for cell in row) for row in cells]
    path.write_text("ID;Nome;Obs\r\n" + "\r\n".join(lines), encoding="utf-8")
    _, rows = read_all(path)
    assert rows == [RawRow(2, ("1", "=cmd", "'+x")), RawRow(3, ("2", "@a", "it's"))]


def test_detects_csv_from_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "contatos.xlsx"
    path.write_text("ID;Nome\r\n1;Ana\r\n", encoding="utf-8")
    assert detect_format(path) is FileFormat.CSV


@pytest.mark.parametrize(
    ("content", "code", "row"),
    [
        (b"", "empty_file", None),
        (b"\r\n\r\n;;\r\n", "empty_file", None),
        (b"ID;Nome\r\n", "header_only", None),
        (b"ID;Nome\r\n;\r\n\r\n", "header_only", None),
        (b"\r\nID;Nome\r\n1;Ana\r\n", "no_header", 1),
        (b"ID;Nome\r\n1;A\x00na\r\n", "nul_bytes", 2),
        (b'ID;Nome\r\n1;Ana\r\n2;"Bia\r\n3;Carla\r\n', "unbalanced_quotes", 3),
        (b'ID;Nome\r\n1;"Ana"x\r\n', "unbalanced_quotes", 2),
        (b"ID;Nome\r\n1;Jo\xc3\xa3o\r\n2;Jo\xe3o\r\n", "invalid_encoding", 3),
        ("ID;Nome\r\n1;Ana\r\n".encode("utf-16-le"), "invalid_encoding", None),
        (b"<html><body><table><tr><td>ID</td></tr></table></body></html>", "xls_is_html", None),
    ],
)
def test_bad_csv_is_rejected_with_its_code_and_row(tmp_path: Path, content: bytes, code: str, row: int | None) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as caught:
        read_all(path)
    assert (caught.value.code, caught.value.row) == (code, row)


def test_limits_on_rows_columns_and_cell_length(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("ID;Nome;E-mail\r\n1;Ana;a@x\r\n2;Bia;" + "b" * 50 + "\r\n3;C;c\r\n")
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_rows=2))
    assert (caught.value.code, caught.value.row) == ("too_many_rows", 4)
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_cell_chars=40))
    # CSV has no column letters: the header names the column.
    assert (caught.value.code, caught.value.row, caught.value.column) == (
        "cell_too_long",
        3,
        "E-mail",
    )
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_columns=2))
    assert (caught.value.code, caught.value.row, caught.value.column) == (
        "too_many_columns",
        1,
        "3",
    )


def _outcome(path: Path, **options: object) -> object:
    try:
        return read_all(path, **options)
    except FileRejected as rejected:
        return (rejected.code, rejected.row, rejected.column)


@pytest.mark.parametrize(
    "wide_line",
    [
        "1;Ana" + ";" * 100_000,  # padded by a tool: trailing empty cells are no columns
        "1;Ana" + ";" * 50_000 + " " + ";" * 50_000,  # a blank cell is a cell: too many
        "1;" + ";".join(["x" * 200] * 499) + ";" * 1_000,  # 500 columns, the most allowed
        "1;" + ";".join(["x" * 200] * 500),  # 501
        '1;"An;a"' + ";" * 100_000,  # a quote: the csv module reads it all
        '1;A"na' + ";x" * 40_000,  # a quote inside a cell, too many columns
    ],
)
def test_a_wide_line_reads_as_the_csv_module_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wide_line: str
) -> None:
    """A line over 64 KiB without quotes is checked before the csv module makes its cells
    (csv_reader._narrowed): the same rows, or the same refusal, as without that check."""
    path = tmp_path / "wide.csv"
    path.write_text(f"ID;Nome\r\n{wide_line}\r\n2;Bia\r\n", encoding="utf-8")
    checked_first = _outcome(path)
    monkeypatch.setattr(csv_reader, "_WIDE_LINE", 10**9)
    assert checked_first == _outcome(path)
