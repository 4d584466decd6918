from __future__ import annotations

import calendar
import json
from datetime import datetime, tzinfo
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.contacts.domain.custom_field_rules import (
    CustomFieldDefinition,
    FieldValueError,
    canonical_custom_value,
    check_definition,
    custom_field_numbers,
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


NUMBER_FIELDS = {"valor": FieldType.DECIMAL, "visita": FieldType.DATETIME}


def _numbers(custom_fields: dict[str, object]) -> dict[str, Decimal]:
    return json.loads(custom_field_numbers(custom_fields, NUMBER_FIELDS), parse_float=Decimal, parse_int=Decimal)


def test_numbers_keep_every_digit_and_only_decimal_and_datetime_fields() -> None:
    numbers = _numbers(
        {"valor": "12345678901234567890.000000001", "visita": "1969-12-31T23:59:59.500000+00:00", "x": "1"}
    )
    assert numbers == {"valor": Decimal("12345678901234567890.000000001"), "visita": Decimal("-0.5")}
    assert custom_field_numbers({}, NUMBER_FIELDS) == "{}"


@pytest.mark.parametrize(
    "stored",
    [
        {"valor": "2024-01-01T00:00:00+00:00", "visita": "3057863.05"},  # another type's values (a demo seed)
        {"valor": "0." + "1" * 16_384},  # beyond numeric's digits: older decimals had no limit
        {"valor": "1e5", "visita": "2024-02-30T00:00:00+00:00"},  # no canonical form, no such day
        {"valor": 12.5, "visita": ["2024-01-01T00:00:00+00:00"]},
    ],
)
def test_values_not_in_their_canonical_form_are_left_out(stored: dict[str, object]) -> None:
    """Rather than fail every write of their contact (and the migration's SQL twin
    leaves out the same, tests/integration/contacts/test_custom_field_numbers.py)."""
    assert custom_field_numbers(stored, NUMBER_FIELDS) == "{}"


def test_decimals_stop_at_numerics_digits_and_say_so_briefly() -> None:
    field = _field(FieldType.DECIMAL)
    assert canonical_custom_value(field, "0e200000") == "0"
    assert len(canonical_custom_value(field, "9" * 131_072 + "." + "9" * 16_383)) == 131_072 + 1 + 16_383
    for too_long in ("9" * 131_073, "0." + "0" * 16_384, "1e131072"):
        with pytest.raises(FieldValueError) as error:
            canonical_custom_value(field, too_long)
        assert "more digits than a decimal field holds" in error.value.message
        assert len(error.value.message) < 200


@given(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=6),
    st.datetimes(timezones=st.timezones()),
    st.timezones(),
)
def test_equal_numbers_and_instants_get_equal_numbers(
    value: Decimal, zeros: int, moment: datetime, elsewhere: tzinfo
) -> None:
    """What the filter relies on: "10.5" finds "10.50", and an instant is one number
    whatever the offset it was written with."""
    decimal_field = CustomFieldDefinition("valor", "Valor", FieldType.DECIMAL)
    datetime_field = CustomFieldDefinition("visita", "Visita", FieldType.DATETIME)
    assume(moment.utcoffset() is not None and 2 <= moment.year <= 9998)
    typed = canonical_custom_value(decimal_field, format(value, "f"))
    padded = canonical_custom_value(
        decimal_field, format(value, "f") + ("." if "." not in format(value, "f") else "") + "0" * zeros
    )
    there = canonical_custom_value(datetime_field, moment.isoformat())
    here = canonical_custom_value(datetime_field, moment.astimezone(elsewhere).isoformat())
    assert _numbers({"valor": typed, "visita": there}) == _numbers({"valor": padded, "visita": here})
    seconds = calendar.timegm(moment.utctimetuple())
    assert _numbers({"visita": there})["visita"] == seconds + Decimal(moment.microsecond).scaleb(-6)
