from __future__ import annotations

import pytest

from services.export.domain.columns import build_columns
from services.export.domain.errors import UnknownFieldsError

from .factories import CUSTOM_FIELDS, make_context

STANDARD_HEADERS_PT_BR = [
    "ID", "Nome", "E-mail", "Telefone", "Empresa", "Cargo", "Sessão (Ciclo de vida)",
    "Responsável", "Jurídico", "Tags", "Criado em", "Atualizado em",
]  # fmt: skip


def test_default_columns_are_id_standard_fields_then_custom_fields_by_label() -> None:
    columns = build_columns(make_context())

    headers = [c.header for c in columns]
    assert headers == STANDARD_HEADERS_PT_BR + [label for _, label, _ in CUSTOM_FIELDS]
    assert columns[0].key == "id"
    assert [c.key for c in columns[12:]] == [key for key, _, _ in CUSTOM_FIELDS]
    assert all(c.field.custom for c in columns[12:])


def test_english_headers() -> None:
    headers = [c.header for c in build_columns(make_context(), "en")][:12]
    assert headers == [
        "ID", "Name", "Email", "Phone", "Company", "Job title", "Lifecycle stage", "Owner",
        "Legal entity", "Tags", "Created at", "Updated at",
    ]  # fmt: skip


def test_fields_narrow_and_order_the_columns() -> None:
    columns = build_columns(make_context(), fields=["id", "cpf", "name", "updated_at"])
    assert [c.key for c in columns] == ["id", "cpf", "name", "updated_at"]
    assert [c.header for c in columns] == ["ID", "CPF", "Nome", "Atualizado em"]


def test_id_is_always_first_because_the_importer_keys_on_it() -> None:
    assert [c.key for c in build_columns(make_context(), fields=["name"])] == ["id", "name"]
    assert [c.key for c in build_columns(make_context(), fields=["name", "id"])] == ["id", "name"]


def test_a_repeated_key_keeps_its_first_place() -> None:
    columns = build_columns(make_context(), fields=["name", "emails", "name"])
    assert [c.key for c in columns] == ["id", "name", "emails"]


def test_unknown_keys_are_all_named_in_one_error() -> None:
    with pytest.raises(UnknownFieldsError) as caught:
        build_columns(make_context(), fields=["name", "shoe_size", "other_account_field"])

    error = caught.value
    assert error.code == "unknown_fields"
    assert error.unknown_keys == ("shoe_size", "other_account_field")
    assert "shoe_size" in error.message("pt-BR") and "other_account_field" in error.message("en")


def test_unsupported_locale_is_refused() -> None:
    with pytest.raises(ValueError):
        build_columns(make_context(), "fr")
