from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.contacts.domain.contact_filter import filter_where, search_words, selection_where
from services.contacts.domain.custom_field_rules import CustomFieldDefinition, FieldValueError
from shared.fields import FieldType
from shared.selection import ContactFilter, Selection

FIELDS = {
    "segmento": CustomFieldDefinition("segmento", "Segmento", FieldType.SINGLE_SELECT, ("Varejo",)),
    "valor": CustomFieldDefinition("valor", "Valor", FieldType.DECIMAL),
}


def test_account_is_always_the_first_condition() -> None:
    where = selection_where(5, Selection(all=True, exclude_ids=[1, 2]), {}, "UTC")
    assert where.sql == "account_id = $1 AND NOT (id = ANY($2::bigint[]))"
    assert where.params == [5, [1, 2]]


def test_every_condition_is_a_parameter() -> None:
    contact_filter = ContactFilter(
        q="Conceição 50%",
        owner_ids=[1],
        lifecycle_stages=["lead"],
        tags=["vip"],
        legal_entity=True,
        created_from=datetime(2024, 1, 1),
        custom={"segmento": "Varejo", "valor": "10.5"},
    )
    where = filter_where(9, contact_filter, FIELDS, "America/Sao_Paulo")
    assert "Conceição" not in where.sql and "Varejo" not in where.sql
    assert where.params[1:3] == ["Conceição", "50\\%"]
    assert where.params[-2:] == [{"segmento": "Varejo"}, '{"valor": 10.5}']
    assert where.params[7] == datetime(2024, 1, 1, 3, tzinfo=UTC)  # midnight in the account's zone


def test_phone_like_queries_become_digits() -> None:
    assert search_words("(11) 98765-4321") == ["11987654321"]
    assert search_words("  ") == []
    assert search_words("ana_b") == ["ana\\_b"]


def test_unknown_custom_field_names_it() -> None:
    with pytest.raises(FieldValueError) as error:
        filter_where(1, ContactFilter(custom={"nada": 1}), FIELDS, "UTC")
    assert error.value.field == "custom.nada"


@pytest.mark.parametrize("empty", [None, "", []])
def test_an_empty_custom_value_asks_for_contacts_without_one(empty: object) -> None:
    """Whatever the field's type: an empty list once matched every contact by a decimal
    field (containment of an empty object)."""
    where = filter_where(3, ContactFilter(custom={"valor": empty, "segmento": empty}), FIELDS, "UTC")
    assert where.conditions[1:] == ["NOT custom_fields ? $2", "NOT custom_fields ? $3"]
    assert where.params[1:] == ["valor", "segmento"]
