"""Rendering of the listings: what a user reads, in pt-BR and en."""

from __future__ import annotations

import io

from rich.console import Console

from cli.messages import CATALOGUE, Messages
from cli.tables import (
    column_letter,
    contacts_table,
    counts_table,
    feedback_table,
    mapping_table,
    sorted_feedback,
)

PT, EN = Messages("pt-BR"), Messages("en")


def rendered(renderable) -> str:
    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_column_letters_as_spreadsheets_show_them():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_contacts_show_names_of_owners_and_stages_and_sim_nao():
    contact = {"id": 7, "name": "Conceição [vip]", "emails": ["a@b.com.br", "c@d.com.br"], "phones": [],
               "company": "Linha 1\nLinha 2", "lifecycle_stage": "lead", "owner_id": 3, "legal_entity": True,
               "tags": ["x"]}
    text = rendered(contacts_table([contact], {3: "Ana"}, {"lead": "Lead qualificado"}, PT))
    assert "Conceição [vip]" in text, "values are shown as typed, never read as markup"
    assert "a@b.com.br, c@d.com.br" in text and "Linha 1 ⏎ Linha 2" in text
    assert "Ana" in text and "Lead qualificado" in text and "SIM" in text
    assert "Responsável" in text
    assert "Owner" in rendered(contacts_table([contact], {}, {}, EN))


def test_feedback_lists_errors_first_then_sheet_order():
    items = [
        {"severity": "warning", "row": 2, "column": None, "header": "ID", "value": "", "message": "vazio"},
        {"severity": "error", "row": 9, "column": "C", "header": "E-mail", "value": "x@", "message": "inválido"},
        {"severity": "error", "row": 4, "column": "C", "header": "E-mail", "value": "y@", "message": "inválido"},
    ]
    assert [i["row"] for i in sorted_feedback(items)] == [4, 9, 2]
    text = rendered(feedback_table(items, PT))
    assert text.index("│ erro ") < text.index("│ aviso ")
    assert "C (E-mail)" in text, "the letter and the header, as the sheet shows them"


def test_mapping_shows_ignored_columns():
    columns = [{"index": 0, "header": "ID", "suggested_field": "id"},
               {"index": 1, "header": "Apelido", "suggested_field": None}]
    text = rendered(mapping_table(columns, {0: "id"}, PT))
    assert "ignorada" in text and "A" in text and "B" in text


def test_counts_name_what_a_start_would_do():
    text = rendered(counts_table({"rows": 5, "errors": 1, "warnings": 2, "to_create": 1, "to_update": 3,
                                  "unchanged": 1}, EN))
    for label in ("rows", "errors", "to create", "to update", "unchanged"):
        assert label in text


def test_every_message_has_both_languages_and_the_same_placeholders():
    import string

    for key, (pt, en) in CATALOGUE.items():
        names = {field for _, field, _, _ in string.Formatter().parse(pt) if field}
        assert names == {field for _, field, _, _ in string.Formatter().parse(en) if field}, key
