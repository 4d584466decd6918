from decimal import Decimal

import pytest

from services.importer.domain.number_parsing import parse_decimal, parse_id, parse_integer
from services.importer.domain.parse_problem import ParseProblem


@pytest.mark.parametrize(
    ("cell", "locale", "expected"),
    [
        ("1.234,56", "pt-BR", "1234.56"),
        ("1.234,56", "en", "1234.56"),  # both marks: the last one is the decimal mark
        ("1,234.56", "pt-BR", "1234.56"),
        ("1234,56", "pt-BR", "1234.56"),
        ("1234.56", "pt-BR", "1234.56"),
        ("1234,50", "pt-BR", "1234.50"),  # digits as written
        ("1.234.567", "pt-BR", "1234567"),
        ("1,234,567", "en", "1234567"),
        ("1.234.567,8", "pt-BR", "1234567.8"),
        ("1,234", "pt-BR", "1.234"),  # pt-BR's decimal mark: what the pt-BR export writes
        ("1.234", "en", "1.234"),  # en's decimal mark: what the en export writes
        ("0.123", "pt-BR", "0.123"),  # 0.123 cannot be grouping
        ("-12,5", "pt-BR", "-12.5"),
        ("+12,5", "pt-BR", "12.5"),
        ("R$ 1.234,56", "pt-BR", "1234.56"),
        ("  42  ", "pt-BR", "42"),
        (42, "pt-BR", "42"),
        (1234.5, "pt-BR", "1234.5"),
        (0.1, "pt-BR", "0.1"),  # the float as Excel shows it, not its binary expansion
    ],
)
def test_decimal_reads(cell: object, locale: str, expected: str) -> None:
    assert parse_decimal(cell, locale) == Decimal(expected)  # type: ignore[arg-type]
    assert str(parse_decimal(cell, locale)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "locale", "code"),
    [
        ("1.234", "pt-BR", "ambiguous_number"),  # 1234 typed with a separator, or 1,234?
        ("1,234", "en", "ambiguous_number"),
        ("abc", "pt-BR", "invalid_decimal"),
        ("1,2,3", "pt-BR", "invalid_decimal"),
        ("1.23.4", "pt-BR", "invalid_decimal"),
        ("1.234,5.6", "pt-BR", "invalid_decimal"),
        ("12,", "pt-BR", "invalid_decimal"),
        (",5", "pt-BR", "invalid_decimal"),
        ("1,23457E+17", "pt-BR", "invalid_decimal"),
        ("12 kg", "pt-BR", "invalid_decimal"),
        (True, "pt-BR", "invalid_decimal"),
        (float("nan"), "pt-BR", "invalid_decimal"),
        # More digits than the contacts service keeps (PostgreSQL numeric's): refused here,
        # not at apply. A text cell holds up to 32,767 characters.
        ("0," + "1" * 16_384, "pt-BR", "decimal_too_long"),
        ("0." + "0" * 16_384, "en", "decimal_too_long"),
    ],
)
def test_decimal_refuses(cell: object, locale: str, code: str) -> None:
    problem = parse_decimal(cell, locale)  # type: ignore[arg-type]
    assert isinstance(problem, ParseProblem)
    assert problem.code == code


def test_ambiguous_decimal_names_both_readings() -> None:
    problem = parse_decimal("1.234", "pt-BR")
    assert problem == ParseProblem("ambiguous_number", {"value": "1.234", "reading_a": "1234", "reading_b": "1,234"})


@pytest.mark.parametrize(
    ("cell", "locale", "expected"),
    [
        ("1234", "pt-BR", 1234),
        ("1.234", "pt-BR", 1234),  # an integer field reads the grouping
        ("1,234", "en", 1234),
        ("1,234", "pt-BR", 1234),
        ("1.234.567", "pt-BR", 1234567),
        ("12,0", "pt-BR", 12),
        ("-7", "pt-BR", -7),
        (12, "pt-BR", 12),
        (12.0, "pt-BR", 12),
    ],
)
def test_integer_reads(cell: object, locale: str, expected: int) -> None:
    assert parse_integer(cell, locale) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "code"),
    [("12,5", "not_an_integer"), (12.5, "not_an_integer"), ("doze", "invalid_number")],
)
def test_integer_refuses(cell: object, code: str) -> None:
    problem = parse_integer(cell, "pt-BR")  # type: ignore[arg-type]
    assert isinstance(problem, ParseProblem) and problem.code == code


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1001", 1001),
        (" 1001 ", 1001),
        (1001, 1001),
        (12345.0, 12345),  # XLSX float that is an exact integer
        (float(2**53), 2**53),
        ("123456789012345678", 123456789012345678),  # long ids are safe as text
    ],
)
def test_id_reads(cell: object, expected: int) -> None:
    assert parse_id(cell) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("1,23457E+17", "id_mangled"),
        ("1.23457e17", "id_mangled"),
        ("1,23457e+17", "id_mangled"),
        ("123.0", "id_mangled"),
        ("123,0", "id_mangled"),
        ("12.345", "id_mangled"),  # shown with a thousands separator
        (1.23457e17, "id_mangled"),  # an XLSX float past 2^53
        (float(2**53 + 2), "id_mangled"),
        (123.5, "id_mangled"),
        ("abc", "invalid_id"),
        ("0", "invalid_id"),
        ("-5", "invalid_id"),
        (-5, "invalid_id"),
        (str(2**63), "invalid_id"),
        (True, "invalid_id"),
    ],
)
def test_id_refuses(cell: object, code: str) -> None:
    problem = parse_id(cell)  # type: ignore[arg-type]
    assert isinstance(problem, ParseProblem)
    assert problem.code == code


def test_decimal_keeps_numerics_digits() -> None:
    assert parse_decimal("0," + "1" * 16_383, "pt-BR") == Decimal("0." + "1" * 16_383)
    assert parse_decimal("9" * 32_000, "pt-BR") == Decimal("9" * 32_000)
