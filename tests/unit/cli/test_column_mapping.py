"""--fields, --drop and --map on top of the importer's suggested mapping."""

from __future__ import annotations

import pytest

from cli.column_mapping import choose_columns, column_index
from cli.exit_codes import UsageProblem

COLUMNS = [
    {"index": 0, "header": "ID", "letter": None, "suggested_field": "id"},
    {"index": 1, "header": "Nome", "letter": None, "suggested_field": "name"},
    {"index": 2, "header": "E-mail", "letter": None, "suggested_field": "emails"},
    {"index": 3, "header": "Apelido", "letter": None, "suggested_field": None},
    {"index": 4, "header": "Atualizado em", "letter": None, "suggested_field": "updated_at"},
]


def test_the_suggestion_is_accepted_as_is():
    assert choose_columns(COLUMNS) == {0: "id", 1: "name", 2: "emails", 4: "updated_at"}


def test_a_column_is_named_by_header_letter_or_number():
    assert column_index(COLUMNS, "e-MAIL", "--drop") == 2
    assert column_index(COLUMNS, "c", "--drop") == 2
    assert column_index(COLUMNS, "3", "--drop") == 2
    # "ID" is a header here, never the 238th column's letters.
    assert column_index(COLUMNS, "id", "--drop") == 0
    with pytest.raises(UsageProblem):
        column_index(COLUMNS, "Telefone", "--drop")


def test_drop_and_map_change_the_suggestion():
    chosen = choose_columns(COLUMNS, drops=["E-mail"], maps=["Apelido=name"])
    assert chosen == {0: "id", 3: "name", 4: "updated_at"}, "the explicit map wins over the suggested Nome"


def test_fields_keeps_those_and_the_key_columns():
    assert choose_columns(COLUMNS, only_fields=["emails"]) == {0: "id", 2: "emails", 4: "updated_at"}
    with pytest.raises(UsageProblem):
        choose_columns(COLUMNS, only_fields=["phones"])


def test_nothing_but_key_columns_is_refused():
    with pytest.raises(UsageProblem) as refused:
        choose_columns(COLUMNS, drops=["B", "C"])
    assert refused.value.message_key == "nothing_to_import"
    with pytest.raises(UsageProblem):
        choose_columns(COLUMNS, maps=["Apelido"])
