from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.export.domain.columns import build_columns
from services.export.domain.csv_writer import CsvExportWriter, iter_csv_chunks
from services.export.domain.errors import IllegalCharacterError
from shared.cells import unescape_formula

from .factories import make_contact, make_context
from .strategies import texts

FIELDS = [
    "name", "company", "phones", "legal_entity", "funcionarios", "faturamento",
    "fundacao", "updated_at", "obs",
]  # fmt: skip


def export_csv(contacts, locale="pt-BR", fields=None, chunk_size=1 << 20) -> bytes:
    context = make_context()
    columns = build_columns(context, locale, fields)
    return b"".join(iter_csv_chunks(columns, context, contacts, locale, chunk_size))


def parse_csv(data: bytes, delimiter: str = ";") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return [[unescape_formula(cell) for cell in row] for row in rows]


def test_exact_bytes_pt_br() -> None:
    contact = make_contact(name="=SUM(A1)")

    data = export_csv([contact], fields=FIELDS)

    assert (
        data
        == (
            "\ufeffID;Nome;Empresa;Telefone;Jurídico;Funcionários;Faturamento;Fundação;"
            "Atualizado em;Observações\r\n"
            '1001;\'=SUM(A1);"Açaí; & Cia ""Ltda""";\'+55 11 99999-0000;SIM;-12;1234,50;'
            '31/12/1999;30/11/2026 15:30:45;"linha 1\nlinha 2"\r\n'
        ).encode()
    )


def test_exact_bytes_en() -> None:
    data = export_csv([make_contact(name="@home")], "en", fields=FIELDS)

    assert (
        data
        == (
            "\ufeffID,Name,Company,Phone,Legal entity,Funcionários,Faturamento,Fundação,"
            "Updated at,Observações\r\n"
            '1001,\'@home,"Açaí; & Cia ""Ltda""",\'+55 11 99999-0000,Yes,-12,1234.50,'
            '1999-12-31,2026-11-30 15:30:45,"linha 1\nlinha 2"\r\n'
        ).encode()
    )


def test_headers_are_escaped_too() -> None:
    context = make_context(custom_fields=[{"key": "f", "label": "=campo", "type": "text"}])
    columns = build_columns(context, fields=["f"])
    data = b"".join(iter_csv_chunks(columns, context, []))
    assert data == "\ufeffID;'=campo\r\n".encode()


def test_no_contacts_gives_the_header_only() -> None:
    rows = parse_csv(export_csv([]))
    assert len(rows) == 1 and rows[0][0] == "ID"


def test_chunks_are_bounded_and_join_to_the_whole_file() -> None:
    contacts = [make_contact(id=i) for i in range(1, 200)]
    context = make_context()
    writer = CsvExportWriter(build_columns(context), context, chunk_size=4096)

    chunks = writer.write_rows(contacts[:100]) + writer.write_rows(contacts[100:]) + writer.close()

    assert len(chunks) > 5
    assert all(len(chunk) >= 4096 for chunk in chunks[:-1])
    assert b"".join(chunks) == export_csv(contacts)
    assert writer.rows_written == 199
    assert writer.bytes_written == sum(map(len, chunks))
    assert writer.close() == []


def test_an_unencodable_character_names_the_contact_and_column() -> None:
    contact = make_contact(id=77, job_title="chefe \ud800")
    with pytest.raises(IllegalCharacterError) as caught:
        export_csv([make_contact(), contact])
    assert (caught.value.contact_id, caught.value.field_key) == ("77", "job_title")
    assert "77" in caught.value.message("pt-BR") and "Cargo" in caught.value.message("pt-BR")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=5), st.sampled_from(["pt-BR", "en"]))
def test_any_text_survives_csv_and_back(values: list[tuple[str, str, str]], locale: str) -> None:
    contacts = [
        make_contact(id=i, name=name, company=company, custom_fields={"cpf": cpf, "obs": cpf})
        for i, (name, company, cpf) in enumerate(values, start=1)
    ]
    rows = parse_csv(export_csv(contacts, locale, ["name", "company", "cpf"]), "," if locale == "en" else ";")

    assert rows[1:] == [[str(i), *texts_] for i, texts_ in enumerate(values, start=1)]
