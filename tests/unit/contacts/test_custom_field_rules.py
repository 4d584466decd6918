from __future__ import annotations

import pytest

from services.contacts.domain.custom_field_rules import (
    CustomFieldDefinition,
    FieldValueError,
    canonical_custom_value,
    check_definition,
)
from shared.fields import FieldType


def _field(field_type: FieldType, options: tuple[str, ...] = ()) -> CustomFieldDefinition:
    return CustomFieldDefinition("campo", "Campo", field_type, options)


@pytest.mark.parametrize(
    ("field_type", "raw", "canonical"),
    [
        (FieldType.NUMBER, "42", 42),
        (FieldType.NUMBER, 7.0, 7),
        (FieldType.DECIMAL, 1.5, "1.5"),
        (FieldType.DECIMAL, "1234.50", "1234.50"),
        (FieldType.DATE, "2024-02-29", "2024-02-29"),
        (FieldType.DATETIME, "2024-01-01T10:00:00-03:00", "2024-01-01T10:00:00-03:00"),
        (FieldType.BOOLEAN, False, False),
        (FieldType.TEXT, "=SOMA(A1)", "=SOMA(A1)"),
        (FieldType.TEXT, "", None),
        (FieldType.MULTI_SELECT, [], None),
    ],
)
def test_canonical_values(field_type: FieldType, raw: object, canonical: object) -> None:
    assert canonical_custom_value(_field(field_type), raw) == canonical


def test_selects_take_only_their_options() -> None:
    field = _field(FieldType.MULTI_SELECT, ("CRM", "ERP"))
    assert canonical_custom_value(field, ["ERP", "CRM", "ERP"]) == ["ERP", "CRM"]
    with pytest.raises(FieldValueError, match=r"campo.*'BI' is not an option"):
        canonical_custom_value(field, ["BI"])


@pytest.mark.parametrize(
    ("field_type", "raw"),
    [
        (FieldType.NUMBER, True),
        (FieldType.NUMBER, "1.5"),
        (FieldType.DECIMAL, "NaN"),
        (FieldType.DATE, "2024-02-30"),
        (FieldType.DATETIME, "2024-01-01 10:00"),
        (FieldType.BOOLEAN, "true"),
        (FieldType.TEXT, 12),
        (FieldType.EMAIL, "semarroba"),
    ],
)
def test_wrong_types_name_the_field(field_type: FieldType, raw: object) -> None:
    with pytest.raises(FieldValueError) as error:
        canonical_custom_value(_field(field_type), raw)
    assert error.value.field == "campo"


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (CustomFieldDefinition("tags", "Tags", FieldType.TEXT), "key"),
        (CustomFieldDefinition("Maiúscula", "X", FieldType.TEXT), "key"),
        (CustomFieldDefinition("s", "S", FieldType.SINGLE_SELECT, ("a,b",)), "options"),
        (CustomFieldDefinition("s", "S", FieldType.SINGLE_SELECT, ()), "options"),
        (CustomFieldDefinition("t", "T", FieldType.TEXT, ("a",)), "options"),
        (CustomFieldDefinition("o", "O", FieldType.OWNER), "type"),
    ],
)
def test_bad_definitions(definition: CustomFieldDefinition, field: str) -> None:
    with pytest.raises(FieldValueError) as error:
        check_definition(definition)
    assert error.value.field == field
