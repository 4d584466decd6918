from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import python_calamine

from services.export.domain import xlsx_writer
from services.export.domain.columns import build_columns
from services.export.domain.errors import (
    CellTooLongError,
    IllegalCharacterError,
    XlsxTooLargeError,
    XlsxTooManyRowsError,
)
from services.export.domain.xlsx_writer import (
    XLSX_MAX_CONTACTS,
    XlsxExportWriter,
    check_xlsx_row_count,
)

from .factories import make_contact, make_context
from .xlsx_reading import (
    EXPORT_ID,
    calamine_book,
    calamine_rows,
    export_xlsx,
    openpyxl_book,
    openpyxl_rows,
)


def by_header(rows: list) -> dict:
    """Header → value of the first contact (read-only openpyxl drops trailing empty cells)."""
    values = list(rows[1]) + [None] * (len(rows[0]) - len(rows[1]))
    return dict(zip(rows[0], values, strict=True))


def test_openpyxl_reads_typed_cells() -> None:
    data = export_xlsx([make_contact(name="=SUM(A1)")])
    row = by_header(openpyxl_rows(data))

    assert row["ID"] == "1001"
    assert row["Nome"] == "=SUM(A1)"  # a string, not a formula and not escaped
    assert row["Empresa"] == 'Açaí; & Cia "Ltda"'
    assert row["Telefone"] == "+55 11 99999-0000"
    assert row["E-mail"] == "maria@example.com.br, m.conceicao@example.com"
    assert row["Sessão (Ciclo de vida)"] == "Cliente"
    assert row["Responsável"] == "Ana Souza"
    assert row["Jurídico"] == "SIM"
    assert row["Newsletter"] == "NÃO"
    assert row["Funcionários"] == -12
    assert row["Faturamento"] == 1234.5
    assert row["Fundação"] == datetime(1999, 12, 31)
    assert row["Criado em"] == datetime(2026, 1, 1, 23, 30, 45)
    assert row["Atualizado em"] == datetime(2026, 11, 30, 15, 30, 45)
    assert row["CPF"] == "01234567890"
    assert row["WhatsApp"] == "011987654321"
    assert row["Observações"] == "linha 1\nlinha 2"
    assert row["Tags"] == "vip, evento-2026"


def test_calamine_reads_typed_cells() -> None:
    row = by_header(calamine_rows(export_xlsx([make_contact()])))

    assert row["ID"] == "1001"
    assert row["Jurídico"] == "SIM"
    assert row["Funcionários"] == -12
    assert row["Faturamento"] == 1234.5
    assert row["Fundação"] == date(1999, 12, 31)
    assert row["Atualizado em"] == datetime(2026, 11, 30, 15, 30, 45)
    assert row["CPF"] == "01234567890"


def test_number_formats_header_style_frozen_pane_autofilter_and_widths() -> None:
    contacts = [make_contact(id=i) for i in (1, 2, 3)]
    book = openpyxl_book(export_xlsx(contacts))
    sheet = book.worksheets[0]

    assert sheet["Q2"].value == datetime(1999, 12, 31)  # Fundação
    assert sheet["Q2"].number_format == "dd/mm/yyyy"
    assert sheet["L2"].number_format == "dd/mm/yyyy hh:mm:ss"  # Atualizado em
    assert sheet["A2"].number_format == "@"  # IDs stay text when the user edits them
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:W4"
    widths = [sheet.column_dimensions[letter].width for letter in ("A", "B", "G", "W")]
    assert all(10 <= width <= 60 for width in widths)
    assert sheet.column_dimensions["G"].width >= len("Sessão (Ciclo de vida)")


def test_english_sheet_name_and_date_formats() -> None:
    book = openpyxl_book(export_xlsx([make_contact()], "en"))
    sheet = book.worksheets[0]
    assert book.sheetnames == ["Contacts", "crm_bulk_meta"]
    assert sheet["I1"].value == "Legal entity" and sheet["I2"].value == "Yes"
    assert sheet["Q2"].number_format == "yyyy-mm-dd"


def test_metadata_sheet_and_custom_property() -> None:
    data = export_xlsx([make_contact()], fields=["name", "cpf"])
    book = openpyxl_book(data)

    assert book.sheetnames == ["Contatos", "crm_bulk_meta"]
    assert book.active.title == "Contatos"
    meta = book["crm_bulk_meta"]
    assert meta.sheet_state == "veryHidden"
    assert [[c.value for c in row] for row in meta.iter_rows()] == [
        ["crm-bulk-export", "1", None, None],
        ["export_id", str(EXPORT_ID), None, None],
        ["field_keys", "id", "name", "cpf"],
    ]
    properties = {p.name: p.value for p in book.custom_doc_props.props}
    assert properties == {"crm_bulk_export_id": str(EXPORT_ID)}

    calamine = calamine_book(data)
    visibility = {m.name: m.visible for m in calamine.sheets_metadata}
    assert visibility == {
        "Contatos": python_calamine.SheetVisibleEnum.Visible,
        "crm_bulk_meta": python_calamine.SheetVisibleEnum.VeryHidden,
    }
    assert calamine.get_sheet_by_name("crm_bulk_meta").to_python()[2] == ["field_keys", "id", "name", "cpf"]


def test_package_is_streamed_without_formulas() -> None:
    data = export_xlsx([make_contact(name="=1+1", company="+55", job_title="@x")])
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        # Bit 3: sizes and CRC follow the data (written to a non-seekable sink).
        assert all(info.flag_bits & 0x08 for info in package.infolist())
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert "<is><t>=1+1</t></is>" in sheet


def test_chunks_join_to_the_same_deterministic_file() -> None:
    contacts = [make_contact(id=i, name=f"Contato {i} " * 20) for i in range(1, 3000)]
    context = make_context()
    writer = XlsxExportWriter(build_columns(context), context, EXPORT_ID, chunk_size=16 * 1024)

    chunks = writer.write_rows(contacts[:1500]) + writer.write_rows(contacts[1500:]) + writer.close()

    assert len(chunks) > 3
    assert all(len(chunk) >= 16 * 1024 for chunk in chunks[:-1])
    assert b"".join(chunks) == export_xlsx(contacts)
    assert writer.rows_written == 2999 and writer.bytes_written == sum(map(len, chunks))
    assert len(openpyxl_rows(b"".join(chunks))) == 3000


def test_values_a_double_cannot_hold_are_written_as_text() -> None:
    custom = {
        "funcionarios": 1234567890123456789,
        "faturamento": "1234567890.123456789",
        "fundacao": "1899-12-31",
        "ultima_visita": "1900-01-15T10:00:00+00:00",
    }
    row = by_header(openpyxl_rows(export_xlsx([make_contact(custom_fields=custom)])))
    assert row["Funcionários"] == "1234567890123456789"
    assert row["Faturamento"] == "1234567890,123456789"
    assert row["Fundação"] == "31/12/1899"
    # São Paulo was on local mean time (-03:06:28) in 1900.
    assert row["Última visita"] == "15/01/1900 06:53:32"


@pytest.mark.parametrize("value", ["0.1", "-0.000001", "999999999999999", "1E+20", "0"])
def test_decimals_within_15_digits_are_numbers(value: str) -> None:
    row = by_header(calamine_rows(export_xlsx([make_contact(custom_fields={"faturamento": value})])))
    assert Decimal(repr(row["Faturamento"])) == Decimal(value)


def test_an_illegal_character_names_the_contact_and_column() -> None:
    contacts = [make_contact(id=1), make_contact(id=2, custom_fields={"obs": "bip\x07"})]
    with pytest.raises(IllegalCharacterError) as caught:
        export_xlsx(contacts)
    error = caught.value
    assert (error.contact_id, error.field_key, error.header, error.character) == (2, "obs", "Observações", "\x07")
    assert error.code == "illegal_character"
    assert "U+0007" in error.message("pt-BR") and "Observações" in error.message("pt-BR")


def test_a_cell_over_32767_characters_names_the_contact_and_column() -> None:
    with pytest.raises(CellTooLongError) as caught:
        export_xlsx([make_contact(id=5, job_title="x" * 32_768)])
    assert (caught.value.contact_id, caught.value.field_key, caught.value.length) == (5, "job_title", 32_768)


def test_astral_characters_count_twice_towards_the_cell_limit() -> None:
    export_xlsx([make_contact(job_title="😀" * 16_383)])
    with pytest.raises(CellTooLongError):
        export_xlsx([make_contact(job_title="😀" * 16_384)])


def test_row_limit_check_suggests_csv() -> None:
    check_xlsx_row_count(XLSX_MAX_CONTACTS)
    with pytest.raises(XlsxTooManyRowsError) as caught:
        check_xlsx_row_count(XLSX_MAX_CONTACTS + 1)
    assert caught.value.code == "xlsx_too_many_rows"
    assert "CSV" in caught.value.message("pt-BR") and "1.048.575" in caught.value.message("pt-BR")


def test_writer_enforces_the_row_limit_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "XLSX_MAX_CONTACTS", 2)
    with pytest.raises(XlsxTooManyRowsError):
        export_xlsx([make_contact(id=i) for i in (1, 2, 3)])


def test_a_sheet_too_large_for_zip_without_zip64_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "MAX_SHEET_XML_BYTES", 10_000)
    with pytest.raises(XlsxTooLargeError):
        export_xlsx([make_contact(id=i) for i in range(1, 100)])
