"""Text a spreadsheet program turned into a number is recognised, never taken as an edit."""

from __future__ import annotations

import pytest

from services.importer.domain.spreadsheet_mangling import looks_mangled


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("007", "7"),
        ("0001234", "1234"),
        ("000", "0"),
        ("12345678901234567890", "1,23456789012346E+019"),
        ("12345678901234567890", "1.23456789012346E+19"),
        ("12345678901234567890", 1.2345678901234567e19),
        ("0123", 123),
        ("1" * 5000, "1,11111111111111E+4999"),  # past int()'s 4,300-digit limit
    ],
)
def test_numeric_forms_of_stored_digit_strings_are_mangling(stored: str, cell: object) -> None:
    assert looks_mangled(stored, cell)


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("007", "007"),  # untouched
        ("007", "8"),  # a real edit
        ("12345", "12346"),
        ("123", "123"),
        ("12345678901234567890", "1,2E+019"),  # too far from the stored number: an edit
        ("1234567890", "1,23456789E+09"),  # fits in 15 digits: nothing was lost, an edit
        ("Empresa 7", "7"),  # stored text is not a digit string
        (None, "7"),
        ("007", None),
        ("007", True),
    ],
)
def test_other_cells_are_not_mangling(stored: object, cell: object) -> None:
    assert not looks_mangled(stored, cell)
