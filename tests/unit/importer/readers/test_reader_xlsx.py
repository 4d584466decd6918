from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import openpyxl
import pytest
from readers_testkit import corpus, read_all

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import ReaderLimits, detect_format, open_sheet
from services.importer.domain.sheet import (
    ExportMetadata,
    FileFormat,
    FormulaWithoutValue,
    RawRow,
)


def _openpyxl_file(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Contatos"
    sheet.append(["ID", "Nome", "Nascimento", "Dobro", "Ativo"])
    sheet.append([1, "Ana", datetime(1990, 5, 17), "=A2*2", True])
    sheet.append([])
    sheet.append([3, "=cmd (texto)", None, None, False])
    sheet["B4"].data_type = "s"
    workbook.create_sheet("Outra").append(["x"])
    hidden = workbook.create_sheet("Oculta")
    hidden.sheet_state = "hidden"
    meta = workbook.create_sheet("crm_bulk_meta")
    meta.sheet_state = "veryHidden"
    meta.append(["crm-bulk-export", "1"])
    meta.append(["export_id", "7d9f8e1c-0000-4000-8000-000000000001"])
    meta.append(["field_keys", "id", "name", "cf_nascimento", None, "legal_entity"])
    workbook.save(path)
    return path


def test_openpyxl_file_reads_typed_cells_and_formula_without_value(tmp_path: Path) -> None:
    path = _openpyxl_file(tmp_path / "renamed.csv")
    assert detect_format(path) is FileFormat.XLSX
    with open_sheet(path) as reader:
        info = reader.info
        assert info.sheet_names == ("Contatos", "Outra")  # hidden sheets are not offered
        assert info.sheet_name == "Contatos"
        assert info.header == ("ID", "Nome", "Nascimento", "Dobro", "Ativo")
        assert info.export_metadata == ExportMetadata(
            export_id="7d9f8e1c-0000-4000-8000-000000000001",
            field_keys=("id", "name", "cf_nascimento", None, "legal_entity"),
        )
        assert list(reader.rows()) == [
            # openpyxl never stores a formula's result: the reader says so for the cell.
            RawRow(2, (1, "Ana", datetime(1990, 5, 17), FormulaWithoutValue("=A2*2"), True)),
            RawRow(4, (3, "=cmd (texto)", None, None, False)),
        ]


def test_sheet_is_chosen_by_name(tmp_path: Path) -> None:
    path = _openpyxl_file(tmp_path / "f.xlsx")
    path2 = tmp_path / "g.xlsx"
    workbook = openpyxl.load_workbook(path)
    workbook["Outra"].append([1])
    workbook.save(path2)
    header, rows = read_all(path2, sheet_name="Outra")
    assert (header, rows) == (("x",), [RawRow(2, (1,))])
    for name in ("Oculta", "crm_bulk_meta", "Nada"):
        with pytest.raises(FileRejected) as caught:
            read_all(path2, sheet_name=name)
        assert caught.value.code == "sheet_not_found"
        assert "“Contatos”, “Outra”" in caught.value.message("pt-BR")


def test_cached_values_shared_strings_dates_and_shared_formulas(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
        # cached values: a number, a string result, a date-formatted number, an error
        '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c><c r="B2" t="str"><f>"A"&amp;"na"</f>'
        '<v>Ana</v></c><c r="C2" s="1"><f>DATE(2024,1,31)</f><v>45322</v></c>'
        '<c r="D2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        # shared formula without cached values; a time of day; a duration; a float
        '<row r="3"><c r="A3"><f t="shared" ref="A3:A4" si="0">B3*2</f></c>'
        '<c r="B3" s="2"><v>0.5</v></c><c r="C3" s="3"><v>1.5</v></c><c r="D3"><v>2.25</v></c>'
        '</row><row r="4"><c r="A4"><f t="shared" si="0"/></c><c r="B4" t="b"><v>0</v></c></row>'
    )
    path = corpus.write_xlsx(
        tmp_path / "f.xlsx",
        {"Plan1": corpus.sheet_xml(rows)},
        shared_strings=["ID", "Nome", "Data", "Erro"],
        styles=corpus.date_styles(),
    )
    header, data = read_all(path)
    assert header == ("ID", "Nome", "Data", "Erro")
    assert data == [
        RawRow(2, (2, "Ana", datetime(2024, 1, 31), "#DIV/0!")),
        RawRow(3, (FormulaWithoutValue("=B3*2"), time(12, 0), 1.5, 2.25)),
        RawRow(4, (FormulaWithoutValue("=B4*2"), False, None, None)),
    ]


def test_rows_without_references_and_prefixed_tags(tmp_path: Path) -> None:
    # Some writers (the .NET SDK) omit r= and use a namespace prefix.
    xml = (
        f'<x:worksheet xmlns:x="{corpus.MAIN_NS}"><x:sheetData>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>ID</x:t></x:is></x:c></x:row>'
        "<x:row><x:c><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>"
    ).encode()
    path = corpus.write_xlsx(tmp_path / "f.xlsx", {"S": xml})
    assert read_all(path) == (("ID",), [RawRow(2, (7,))])


def test_date1904_workbook(tmp_path: Path) -> None:
    rows = corpus.inline_row(1, ["Data"]) + '<row r="2"><c r="A2" s="1"><v>1</v></c></row>'
    path = corpus.write_xlsx(
        tmp_path / "f.xlsx",
        {"S": corpus.sheet_xml(rows)},
        styles=corpus.date_styles(),
        date1904=True,
    )
    assert read_all(path)[1] == [RawRow(2, (datetime(1904, 1, 2),))]


def test_merged_cells_are_named(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Nome"])
    sheet.append([1, "Ana"])
    sheet.merge_cells("A2:B2")
    sheet.merge_cells("A5:C9")
    workbook.save(tmp_path / "m.xlsx")
    with pytest.raises(FileRejected) as caught:
        open_sheet(tmp_path / "m.xlsx")
    assert caught.value.code == "merged_cells"
    assert "A2:B2" in caught.value.message("en") and "A5:C9" in caught.value.message("en")


def test_xlsx_limits_name_the_cell_by_letter(tmp_path: Path) -> None:
    rows = corpus.inline_row(1, ["ID", "Nome", "Obs"]) + corpus.inline_row(7, ["1", "A", "x" * 50])
    path = corpus.write_xlsx(tmp_path / "f.xlsx", {"S": corpus.sheet_xml(rows)})
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_cell_chars=40))
    assert (caught.value.code, caught.value.row, caught.value.column) == ("cell_too_long", 7, "C")
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_columns=2))
    assert (caught.value.code, caught.value.row, caught.value.column) == (
        "too_many_columns",
        1,
        "C",
    )


def test_first_row_empty_is_no_header(tmp_path: Path) -> None:
    rows = corpus.inline_row(2, ["ID"]) + corpus.inline_row(3, ["1"])
    path = corpus.write_xlsx(tmp_path / "f.xlsx", {"S": corpus.sheet_xml(rows)})
    with pytest.raises(FileRejected) as caught:
        open_sheet(path)
    assert (caught.value.code, caught.value.row) == ("no_header", 1)


def test_zip_bomb_total_size_is_refused_from_the_directory(tmp_path: Path) -> None:
    path = _openpyxl_file(tmp_path / "f.xlsx")
    with pytest.raises(FileRejected) as caught:
        open_sheet(path, limits=ReaderLimits(max_uncompressed_bytes=2_000))
    assert caught.value.code == "zip_bomb"


def test_xstring_escapes_are_decoded_so_an_export_reads_back_exactly(tmp_path):
    """Excel (and our export) write a literal `_x0041_` as `_x005F_x0041_`; CR as `_x000D_`."""
    import datetime
    import uuid

    from services.export.domain.columns import build_columns
    from services.export.domain.xlsx_writer import XlsxExportWriter
    from services.importer.domain.readers import open_sheet
    from shared.contacts_api import AccountContext, ContactRecord

    context = AccountContext(account_id=1, name="x", owners=[], lifecycle_stages=[], custom_fields=[])
    writer = XlsxExportWriter(build_columns(context, "pt-BR", ["name", "company"]), context, uuid.uuid4())
    now = datetime.datetime.now(datetime.UTC)
    contact = ContactRecord(
        id=5, account_id=1, name="a_x0041_b", company="=x\r\ny _x005F_ z", created_at=now, updated_at=now, version=1
    )
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(writer.write_rows([contact]) + writer.close()))
    with open_sheet(path) as sheet:
        rows = list(sheet.rows())
    assert rows[0].cells == ("5", "a_x0041_b", "=x\r\ny _x005F_ z")


@pytest.mark.parametrize(
    ("rows", "detail"),
    [
        (corpus.inline_row(1, ["ID"]) + corpus.inline_row(3, ["1"]) + corpus.inline_row(2, ["2"]), "row number 2"),
        (corpus.inline_row(1, ["ID"]) + corpus.inline_row(1, ["1"]), "row number 1"),
        (corpus.inline_row(1, ["ID"]) + '<row r="1048577"/>', "row number 1048577"),
        (corpus.inline_row(1, ["ID"]) + "<row>" + "<c/>" * 16_385 + "</row>", "past column XFD"),
    ],
    ids=["rows_out_of_order", "row_twice", "row_past_excel", "cells_past_xfd_without_references"],
)
def test_sheet_xml_that_no_spreadsheet_writes_is_corrupt(tmp_path: Path, rows: str, detail: str) -> None:
    """Rows once each, ascending, within Excel's 1,048,576; cells within XFD: held to
    that, a sheet's XML cannot make the reader work for minutes on empty rows."""
    path = corpus.write_xlsx(tmp_path / "f.xlsx", {"S": corpus.sheet_xml(rows)})
    with pytest.raises(FileRejected) as caught:
        read_all(path)
    assert caught.value.code == "corrupt_file"
    assert detail in caught.value.message("en")


def test_a_cell_past_the_column_limit_is_refused_as_it_is_read(tmp_path: Path) -> None:
    """Refused at the cell, not once its row (a list from column A) is built: thousands
    of rows with a cell in column XFD took ~650 MiB before (docs/reliability.md)."""
    rows = corpus.inline_row(1, ["ID"]) + '<row r="2"><c r="XFD2"><v>1</v></c></row>'
    path = corpus.write_xlsx(tmp_path / "f.xlsx", {"S": corpus.sheet_xml(rows)})
    with pytest.raises(FileRejected) as caught:
        read_all(path, limits=ReaderLimits(max_columns=500))
    assert (caught.value.code, caught.value.row, caught.value.column) == ("too_many_columns", 2, "XFD")
