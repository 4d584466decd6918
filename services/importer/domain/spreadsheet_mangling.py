"""Text that a spreadsheet program turned into a number on the way (a CSV opened with
"Standard" columns): `007` becomes `7`, `12345678901234567890` becomes
`1,23456789012346E+19`. Taken as an edit, it would overwrite the stored text with a
corrupted one, so validation reports it instead."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from services.importer.domain.sheet import CellValue

_SCIENTIFIC = re.compile(r"^\s*[+]?(\d)[.,](\d+)[eE]\+?(\d+)\s*$")
# Spreadsheets keep 15 significant digits of a number; longer digit strings lose the rest.
_SIGNIFICANT_DIGITS = 15


def looks_mangled(stored: object, cell: CellValue) -> bool:
    """True when `cell` is what a spreadsheet shows for the digit string `stored` once it
    took it for a number (leading zeros dropped, or rounded to scientific notation)."""
    if not isinstance(stored, str) or not stored.isascii() or not stored.isdigit():
        return False
    if isinstance(cell, bool) or cell is None:
        return False
    if isinstance(cell, int | float):
        if isinstance(cell, float) and not math.isfinite(cell):
            return False
        return _same_number(stored, Decimal(cell)) and (str(cell) != stored)
    if not isinstance(cell, str):
        return False
    text = cell.strip()
    if text == stored:
        return False
    if text.isascii() and text.isdigit():
        return stored[0] == "0" and text == (stored.lstrip("0") or "0")
    match = _SCIENTIFIC.match(text)
    if match is None:
        return False
    if len(match[3].lstrip("0")) > len(str(len(stored))):
        # A power of ten past the stored string's length is another number (and an
        # exponent of 19 digits or more is past what Decimal parses).
        return False
    # Decimal, not float: a typed `1,2E+309` or a stored digit string of 400 digits is
    # past float's range, and must be judged, not crash the validation run.
    return _same_number(stored, Decimal(f"{match[1]}.{match[2]}E{match[3]}"))


_RELATIVE_ROUNDING = Decimal(10) ** (1 - _SIGNIFICANT_DIGITS)


def _same_number(stored: str, number: Decimal) -> bool:
    # Decimal, not int: int() refuses digit strings of more than 4,300 digits.
    digits = stored.lstrip("0")
    if not digits:
        return number == 0
    lost_digits = len(digits) > _SIGNIFICANT_DIGITS or stored[0] == "0"
    if not lost_digits or not number.is_finite():
        return False
    exact = Decimal(digits)
    # Another order of magnitude is another number; and the difference of two numbers
    # far apart (`1,2E+999999999`) overflows Decimal's exponent range.
    if abs(number.adjusted() - exact.adjusted()) > 1:
        return False
    return abs(number - exact) <= exact * _RELATIVE_ROUNDING
