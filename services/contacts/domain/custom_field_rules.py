"""Custom field definitions and their values: what a definition may be, and the one
canonical JSON form of each value type (shared/contacts_api.py's docstring)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.bounds import NUL, NUL_MESSAGE, holds_nul
from shared.fields import (
    CUSTOM_FIELD_TYPES,
    DECIMAL_FRACTION_DIGITS,
    DECIMAL_INTEGER_DIGITS,
    RESERVED_KEYS,
    FieldType,
    decimal_fits,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Shape checks only: the importer may pass unvalidated text when its user turned the
# email or phone validation off, and that must still be storable.
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+$")
_PHONE = re.compile(r"^[^\r\n,;]*\d[^\r\n,;]*$")
_URL = re.compile(r"^\S+$")
_SELECT_TYPES = frozenset({FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT})


class FieldValueError(ValueError):
    """A value that its field does not accept; `field` is the field key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class CustomFieldDefinition:
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False


def check_definition(definition: CustomFieldDefinition) -> None:
    """Raises FieldValueError (naming what is wrong) for a definition that cannot be made."""
    key = definition.key
    if not _KEY.match(key):
        raise FieldValueError("key", f"{key!r} must be lowercase letters, digits and _, starting with a letter")
    if key in RESERVED_KEYS:
        raise FieldValueError("key", f"{key!r} is the key of a standard field")
    if not definition.label.strip():
        raise FieldValueError("label", "must not be empty")
    if NUL in definition.label:
        raise FieldValueError("label", NUL_MESSAGE)
    if definition.type not in CUSTOM_FIELD_TYPES:
        raise FieldValueError("type", f"{definition.type!r} is not a custom field type")
    if definition.type in _SELECT_TYPES:
        if not definition.options:
            raise FieldValueError("options", "a select field needs at least one option")
        for option in definition.options:
            # Several options share one cell, joined by MULTI_VALUE_SEPARATOR.
            if "," in option or ";" in option:
                raise FieldValueError("options", f"{option!r}: an option name has no comma or semicolon")
            if option != option.strip() or not option:
                raise FieldValueError("options", f"{option!r}: no blank option or edge spaces")
            if NUL in option:
                raise FieldValueError("options", f"{option!r} {NUL_MESSAGE}")
        if len(set(definition.options)) != len(definition.options):
            raise FieldValueError("options", "options are unique")
    elif definition.options:
        raise FieldValueError("options", "only select fields have options")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def canonical_custom_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    """The canonical value to store, or None when `raw` is empty (the field is unset).

    Raises FieldValueError naming the field for a value of the wrong type or an unknown
    option."""
    if is_empty(raw):
        return None
    if holds_nul(raw):
        raise FieldValueError(definition.key, NUL_MESSAGE)
    convert = _CONVERTERS[definition.type]
    try:
        return convert(raw, definition)
    except FieldValueError:
        raise
    except (TypeError, ValueError, InvalidOperation) as error:
        expected = _EXPECTED[definition.type]
        raise FieldValueError(definition.key, f"{raw!r} is not {expected}") from error


def _text(raw: Any, _: CustomFieldDefinition) -> str:
    if not isinstance(raw, str):
        raise TypeError
    return raw


def _number(raw: Any, _: CustomFieldDefinition) -> int:
    if isinstance(raw, bool):
        raise TypeError
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"-?\d{1,30}", raw.strip()):
        return int(raw.strip())
    raise ValueError


def _decimal(raw: Any, definition: CustomFieldDefinition) -> str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise TypeError
    value = Decimal(str(raw).strip())
    if not value.is_finite():
        raise ValueError
    # It is also kept as a PostgreSQL numeric (custom_field_numbers), whose digits end there.
    if not decimal_fits(value):
        shown = str(raw).strip()
        shown = shown if len(shown) <= 40 else f"{shown[:20]}…{shown[-10:]} ({len(shown)} characters)"
        raise FieldValueError(
            definition.key,
            f"{shown!r} has more digits than a decimal field holds "
            f"({DECIMAL_INTEGER_DIGITS:,} before the point, {DECIMAL_FRACTION_DIGITS:,} after it)",
        )
    # Plain notation with the digits as given ("1234.50"), as the importer sends them.
    return format(value, "f")


def _date(raw: Any, _: CustomFieldDefinition) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ValueError
    return date.fromisoformat(raw).isoformat()


def _datetime(raw: Any, definition: CustomFieldDefinition) -> str:
    if not isinstance(raw, str):
        raise TypeError
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise FieldValueError(definition.key, f"{raw!r} needs a UTC offset (e.g. -03:00)")
    return value.isoformat()


def _boolean(raw: Any, _: CustomFieldDefinition) -> bool:
    if not isinstance(raw, bool):
        raise TypeError
    return raw


def _single_select(raw: Any, definition: CustomFieldDefinition) -> str:
    if not isinstance(raw, str):
        raise TypeError
    return _option(raw, definition)


def _multi_select(raw: Any, definition: CustomFieldDefinition) -> list[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError
    chosen: list[str] = []
    for item in items:
        option = _option(item, definition)
        if option not in chosen:
            chosen.append(option)
    return chosen


def _option(value: str, definition: CustomFieldDefinition) -> str:
    if value not in definition.options:
        shown = ", ".join(definition.options)
        raise FieldValueError(definition.key, f"{value!r} is not an option (options: {shown})")
    return value


def _matching(pattern: re.Pattern[str]) -> Any:
    def convert(raw: Any, _: CustomFieldDefinition) -> str:
        if not isinstance(raw, str):
            raise TypeError
        if not pattern.match(raw.strip()):
            raise ValueError
        return raw.strip()

    return convert


_CONVERTERS = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.DECIMAL: _decimal,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.BOOLEAN: _boolean,
    FieldType.SINGLE_SELECT: _single_select,
    FieldType.MULTI_SELECT: _multi_select,
    FieldType.EMAIL: _matching(_EMAIL),
    FieldType.PHONE: _matching(_PHONE),
    FieldType.URL: _matching(_URL),
}

_EXPECTED = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "text",
    FieldType.NUMBER: "an integer",
    FieldType.DECIMAL: "a decimal number",
    FieldType.DATE: "a date (YYYY-MM-DD)",
    FieldType.DATETIME: "a date-time (ISO 8601 with offset)",
    FieldType.BOOLEAN: "true or false",
    FieldType.SINGLE_SELECT: "an option",
    FieldType.MULTI_SELECT: "a list of options",
    FieldType.EMAIL: "an email address",
    FieldType.PHONE: "a phone number",
    FieldType.URL: "a web address",
}


# Decimal and datetime values are stored as given ("10.50", "2026-03-01T09:00:00-03:00")
# but equal as numbers and instants, which no index over the stored text can serve. Each
# contact therefore also keeps them as JSON numbers (datetimes as seconds since the Unix
# epoch), in `contacts.custom_field_numbers`, where jsonb containment compares numbers
# numerically and its GIN index serves an equality filter (migration 0006).
NUMBER_INDEXED_TYPES = frozenset({FieldType.DECIMAL, FieldType.DATETIME})
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_PER_DAY = 86_400
_MICROSECONDS = Decimal("1e-6")
# What `_decimal` and `_datetime` store (format "f"; isoformat, whose offset may have
# seconds and microseconds).
_CANONICAL_DECIMAL = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
_CANONICAL_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{6})?)?"
)


def number_indexed_fields(definitions: Mapping[str, CustomFieldDefinition]) -> dict[str, FieldType]:
    """Key → type of the fields whose values `custom_field_numbers` holds."""
    return {key: d.type for key, d in definitions.items() if d.type in NUMBER_INDEXED_TYPES}


def custom_value_number(field_type: FieldType, stored: str) -> Decimal | None:
    """A stored decimal or datetime value as the number it is indexed by; None for a
    value not in its type's canonical form (the demo seed writes its own types' values
    under its keys, whatever the account defined: see seeding.py), which is left out
    rather than made to fail every write of its contact. Migration 0006's SQL twin
    leaves out the same values."""
    if field_type is FieldType.DECIMAL:
        decimal = _CANONICAL_DECIMAL.fullmatch(stored)
        if (
            decimal is None
            or len(decimal[1]) > DECIMAL_INTEGER_DIGITS
            or len(decimal[2] or "") > DECIMAL_FRACTION_DIGITS
        ):
            return None
        return Decimal(stored)
    if _CANONICAL_DATETIME.fullmatch(stored) is None:
        return None
    try:
        since_epoch = datetime.fromisoformat(stored) - _UNIX_EPOCH
    except ValueError:  # the shape of a date-time, but no such day or time
        return None
    seconds = since_epoch.days * _SECONDS_PER_DAY + since_epoch.seconds
    return Decimal(seconds) + since_epoch.microseconds * _MICROSECONDS


def custom_field_numbers(custom_fields: Mapping[str, Any], number_fields: Mapping[str, FieldType]) -> str:
    """The JSON object text of `contacts.custom_field_numbers` for canonical custom
    values: text, because a JSON number must keep every digit (a float would not)."""
    items = [
        f"{json.dumps(key)}: {format(number, 'f')}"
        for key, field_type in number_fields.items()
        if isinstance(value := custom_fields.get(key), str)
        and (number := custom_value_number(field_type, value)) is not None
    ]
    return "{" + ", ".join(items) + "}"
