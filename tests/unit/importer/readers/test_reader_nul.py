"""NUL (U+0000) in a spreadsheet: Excel writes it `_x0000_`. Cells keep it (validation
reports it at its cell: nul_character); the text the importer stores about the file
(headers, XLS sheet names, a refusal's message) shows it as "�" instead, since
PostgreSQL's text and jsonb cannot hold it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import xlrd
from readers_testkit import corpus, read_all

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import ReaderLimits
from services.importer.domain.readers.sheet_reader import SheetReader
from services.importer.domain.readers.xls_reader import _source


def test_an_xlsx_cell_keeps_its_nul_and_a_header_shows_it_replaced(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>E-mail_x0000_</t></is></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t>a_x0000_@b.com</t></is></c>'
        '<c r="C2" t="str"><f>A2</f><v>C_x0000_</v></c></row>'
    )
    path = corpus.write_xlsx(
        tmp_path / "nul.xlsx", {"Contatos": corpus.sheet_xml(rows)}, shared_strings=["Nome_x0000_X", "Ana_x0000_B"]
    )
    header, data = read_all(path)
    assert header == ("Nome\ufffdX", "E-mail\ufffd")
    assert [row.cells for row in data] == [("Ana\x00B", "a\x00@b.com", "C\x00")]


def test_a_literal_escape_is_not_a_nul(tmp_path: Path) -> None:
    path = corpus.write_xlsx(
        tmp_path / "literal.xlsx",
        {"Contatos": corpus.sheet_xml(corpus.inline_row(1, ["Nome"]) + corpus.inline_row(2, ["_x005F_x0000_"]))},
    )
    assert read_all(path)[1][0].cells == ("_x0000_",)


class _FakeSheet:
    def __init__(self, rows: list[list[str]]) -> None:
        self._rows = rows
        self.nrows = len(rows)

    def row_types(self, index: int) -> list[int]:
        return [xlrd.XL_CELL_TEXT] * len(self._rows[index])

    def row_values(self, index: int) -> list[str]:
        return self._rows[index]


def _xls_book(sheets: dict[str, list[list[str]]]) -> SimpleNamespace:
    """What the XLS reader uses of xlrd's Book (BIFF names and text may hold NUL; no
    writer of XLS is at hand to make such a file)."""
    return SimpleNamespace(
        sheet_names=lambda: list(sheets),
        _sheet_visibility=[0] * len(sheets),
        sheet_by_name=lambda name: _FakeSheet(sheets[name]),
        datemode=0,
        release_resources=lambda: None,
    )


def test_xls_sheet_names_with_nul_are_listed_and_chosen_by_their_shown_name() -> None:
    book = _xls_book({"Contatos\x00": [["Nome"], ["Ana\x00B"]], "Outra": [["Nome"], ["Bia"]]})
    limits = ReaderLimits()
    with SheetReader(_source(book, None, limits), limits) as first:  # type: ignore[arg-type]
        assert first.info.sheet_names == ("Contatos\ufffd", "Outra")
        assert first.info.sheet_name == "Contatos\ufffd"
        assert [row.cells for row in first.rows()] == [("Ana\x00B",)]
    # Validation and the report reopen the sheet by the name stored at prepare.
    with SheetReader(_source(book, "Contatos\ufffd", limits), limits) as again:  # type: ignore[arg-type]
        assert [row.cells for row in again.rows()] == [("Ana\x00B",)]
    with pytest.raises(FileRejected) as refused:
        _source(book, "Contatos\x00", limits)  # type: ignore[arg-type]
    assert refused.value.code == "sheet_not_found"


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_a_refusal_quoting_a_nul_says_it_without_one(locale: str) -> None:
    message = FileRejected("sheet_not_found", detail="Aba\x00", sheets="“Contatos”").message(locale)
    assert "\x00" not in message and "Aba\ufffd" in message
