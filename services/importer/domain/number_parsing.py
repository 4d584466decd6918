"""Numbers as Brazilian and English spreadsheets write them, and contact IDs.

Separators: with both `.` and `,` the last one is the decimal mark (`1.234,56`,
`1,234.56`). With one kind used several times it groups thousands (`1.234.567`). Used
once it is the decimal mark (`1234,56`, `1234.56`), except `d{1,3}<sep>ddd`, which is
ambiguous. An integer field reads it as grouping (`1.234` and `1,234` → 1234). A decimal
field reads the sheet locale's decimal mark as such (pt-BR `1,234` is 1.234, en `1.234` is
1.234, as each locale's export writes them) and reports the other as ambiguous.
Scientific notation is refused: in a spreadsheet it means digits were lost.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.sheet import CellValue
from shared.fields import DECIMAL_FRACTION_DIGITS, DECIMAL_INTEGER_DIGITS, decimal_fits

MAX_ID = 2**63 - 1  # PostgreSQL bigint
MAX_EXACT_FLOAT_INT = 2**53  # above this a float cell may have lost digits

_CURRENCY_PREFIX = re.compile(r"^R\$\s*")
_NUMBER_BODY = re.compile(r"^[+-]?[0-9.,]*[0-9][0-9.,]*$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_TRAILING_ZERO_FRACTION = re.compile(r"^\d+[.,]0+$")
_GROUPED_INTEGER = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})*$")


def decimal_mark(locale: str) -> str:
    return "." if locale.lower().startswith("en") else ","


def parse_decimal(cell: CellValue, locale: str) -> Decimal | ParseProblem:
    """A decimal cell; text per the module rules, XLSX numbers as they are."""
    parsed = _parse_number(cell, locale, ambiguous_as_grouping=False)
    if isinstance(parsed, ParseProblem):
        if parsed.code == "invalid_number":
            return ParseProblem("invalid_decimal", parsed.params)
        return parsed
    if not decimal_fits(parsed):
        return ParseProblem(
            "decimal_too_long", {"integer_digits": DECIMAL_INTEGER_DIGITS, "fraction_digits": DECIMAL_FRACTION_DIGITS}
        )
    return parsed


def parse_integer(cell: CellValue, locale: str) -> int | ParseProblem:
    parsed = _parse_number(cell, locale, ambiguous_as_grouping=True)
    if isinstance(parsed, ParseProblem):
        return parsed
    if parsed != parsed.to_integral_value():
        return ParseProblem("not_an_integer", {"value": _text(cell)})
    return int(parsed)


def canonical_decimal(value: Decimal) -> str:
    """The canonical JSON form: plain notation, digits as given (`1234.50`)."""
    return format(value, "f")


def parse_id(cell: CellValue) -> int | ParseProblem:
    """A contact ID. Excel turns long IDs into floats (`1,23457E+17`, `123.0`), losing
    digits: those are reported as mangled, with a hint to format the column as text."""
    if isinstance(cell, bool | datetime | date | time):
        return ParseProblem("invalid_id", {"value": _text(cell)})
    if isinstance(cell, int):
        return _positive_id(cell, cell)
    if isinstance(cell, float):
        if not math.isfinite(cell) or not cell.is_integer() or abs(cell) > MAX_EXACT_FLOAT_INT:
            return ParseProblem("id_mangled", {"value": _text(cell)})
        return _positive_id(int(cell), cell)
    text = str(cell).strip()
    if text.isascii() and text.isdigit():
        return _positive_id(int(text), text)
    if _SCIENTIFIC.match(text) or _TRAILING_ZERO_FRACTION.match(text) or _GROUPED_INTEGER.match(text):
        return ParseProblem("id_mangled", {"value": text})
    return ParseProblem("invalid_id", {"value": text})


def _positive_id(value: int, cell: CellValue) -> int | ParseProblem:
    if 0 < value <= MAX_ID:
        return value
    return ParseProblem("invalid_id", {"value": _text(cell)})


def _parse_number(cell: CellValue, locale: str, *, ambiguous_as_grouping: bool) -> Decimal | ParseProblem:
    if isinstance(cell, bool):
        return ParseProblem("invalid_number", {"value": _text(cell)})
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return ParseProblem("invalid_number", {"value": _text(cell)})
        # repr is the shortest text that reads back as the same float: what Excel shows.
        return Decimal(repr(cell))
    if not isinstance(cell, str):
        return ParseProblem("invalid_number", {"value": _text(cell)})
    text = _CURRENCY_PREFIX.sub("", cell.strip())
    if not _NUMBER_BODY.match(text):
        return ParseProblem("invalid_number", {"value": cell.strip()})
    sign = ""
    if text[0] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    plain = _plain_digits(text, locale, ambiguous_as_grouping=ambiguous_as_grouping)
    if isinstance(plain, ParseProblem):
        return ParseProblem(plain.code, {"value": cell.strip(), **plain.params})
    try:
        return Decimal(sign + plain)
    except InvalidOperation:
        return ParseProblem("invalid_number", {"value": cell.strip()})


def _plain_digits(text: str, locale: str, *, ambiguous_as_grouping: bool) -> str | ParseProblem:
    """`1.234,56` → `1234.56`; digits and one `.` at most, or a problem."""
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:
        mark = "." if text.rfind(".") > text.rfind(",") else ","
        grouping = "," if mark == "." else "."
        whole, _, fraction = text.rpartition(mark)
        if mark in whole or not fraction or not _grouped(whole, grouping):
            return ParseProblem("invalid_number")
        return whole.replace(grouping, "") + "." + fraction
    if not (has_dot or has_comma):
        return text
    separator = "." if has_dot else ","
    if text.count(separator) > 1:
        return text.replace(separator, "") if _grouped(text, separator) else ParseProblem("invalid_number")
    whole, _, fraction = text.partition(separator)
    if not fraction or not whole:
        # "1234," or ",5": a stray separator rather than a number a user meant.
        return ParseProblem("invalid_number")
    could_be_grouping = len(fraction) == 3 and _grouped(text, separator) and whole[0] != "0"
    if could_be_grouping and ambiguous_as_grouping:
        return whole + fraction  # an integer field: 1,234 can only mean 1234
    if could_be_grouping and separator != decimal_mark(locale):
        return ParseProblem(
            "ambiguous_number",
            {"reading_a": whole + fraction, "reading_b": whole + decimal_mark(locale) + fraction},
        )
    return whole + "." + fraction


def _grouped(text: str, separator: str) -> bool:
    return bool(_GROUPED.match(text.replace(separator, "X")))


def _text(cell: CellValue) -> str:
    return "" if cell is None else str(cell)
