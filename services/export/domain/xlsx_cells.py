"""Cell values as SpreadsheetML `<c>` elements.

Text is an inline string (`t="inlineStr"`): nothing to remember across rows, so memory
stays flat, and no cell is ever a formula (`<f>` is never written). Text is XML-escaped,
a CR is kept as `&#13;` (an XML parser turns a raw CR into LF), and a literal `_xHHHH_`
gets its underscore escaped as `_x005F_`, because Excel, LibreOffice and calamine decode
`_xHHHH_` in strings as the character U+HHHH (ECMA-376 Part 1, 22.9.2.19 ST_Xstring).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.cells import format_boolean, format_decimal
from shared.ooxml import encode_xstring_underscores

from .cell_values import format_local_date, format_local_datetime
from .xlsx_parts import STYLE_DATE, STYLE_DATETIME

# Excel keeps at most this many characters (UTF-16 code units) in a cell.
XLSX_MAX_CELL_CHARS = 32_767
# Excel computes with IEEE doubles and shows 15 significant digits: a longer number is
# written as text so that no digit is lost.
MAX_EXACT_DIGITS = 15
_EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
# Serials before this date go through Excel's 1900-leap-year bug; they are written as
# text, which readers cannot misread.
FIRST_SERIAL_DATE = date(1900, 3, 1)
_SECONDS_PER_DAY = 86_400
_MIN_EXPONENT, _MAX_EXPONENT = -300, 300

# Characters XML 1.0 cannot hold (C0 controls but TAB, LF, CR; surrogates; FFFE, FFFF).
ILLEGAL_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A text without these characters is copied between <t> and </t> as it is. `_` stands for
# a possible `_xHHHH_`: a bare character class is three times faster to search for.
NEEDS_CARE = re.compile("[&<>_\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Longer texts may be over Excel's limit once counted in UTF-16 code units.
SHORT_TEXT_CHARS = XLSX_MAX_CELL_CHARS // 2


class CellProblem(Exception):
    """A value that cannot be stored; the writer adds the contact and the column."""


class IllegalCharacter(CellProblem):
    def __init__(self, character: str) -> None:
        super().__init__(character)
        self.character = character


class TextTooLong(CellProblem):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


def escape_text(text: str) -> tuple[str, bool]:
    """The text as `<t>` content, and whether it needs xml:space="preserve" (leading or
    trailing whitespace, which Excel would otherwise trim)."""
    if len(text) > SHORT_TEXT_CHARS:
        length = len(text.encode("utf-16-le", "surrogatepass")) // 2
        if length > XLSX_MAX_CELL_CHARS:
            raise TextTooLong(length)
    preserve = len(text.strip()) != len(text)
    if NEEDS_CARE.search(text) is None:
        return text, preserve
    illegal = ILLEGAL_XML_CHARACTERS.search(text)
    if illegal is not None:
        raise IllegalCharacter(illegal.group())
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = encode_xstring_underscores(escaped.replace("\r", "&#13;"))
    return escaped, preserve


def text_cell_xml(ref: str, text: str, style: str = "") -> str:
    """`style` is "" or ` s="N"`."""
    escaped, preserve = escape_text(text)
    space = ' xml:space="preserve"' if preserve else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{escaped}</t></is></c>'


def excel_serial(value: date) -> str:
    """Days since Excel's epoch; a datetime adds its time of day (already to the second)."""
    days = value.toordinal() - _EXCEL_EPOCH_ORDINAL
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return repr(days + seconds / _SECONDS_PER_DAY) if seconds else str(days)
    return str(days)


def is_exact_number(value: Decimal) -> bool:
    """Finite, at most 15 significant digits and within a double's normal range: a
    double then reads back as exactly this decimal."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    digits = len(value.normalize().as_tuple().digits)
    return digits <= MAX_EXACT_DIGITS and _MIN_EXPONENT <= value.adjusted() <= _MAX_EXPONENT


def cell_encoders(locale: str) -> dict[type, Callable[[str, str, Any], str]]:
    """Value type → function(ref, text style, value) → `<c>` XML; str is handled inline
    by the writer's hot loop, the others are here."""
    date_style = f' s="{STYLE_DATE}"'
    datetime_style = f' s="{STYLE_DATETIME}"'
    max_exact_int = 10**MAX_EXACT_DIGITS
    first_serial = FIRST_SERIAL_DATE.toordinal()
    boolean_texts = {True: format_boolean(True, locale), False: format_boolean(False, locale)}

    def boolean(ref: str, text_style: str, value: bool) -> str:
        return f'<c r="{ref}" t="inlineStr"{text_style}><is><t>{boolean_texts[value]}</t></is></c>'

    def integer(ref: str, text_style: str, value: int) -> str:
        if -max_exact_int < value < max_exact_int:
            return f'<c r="{ref}"><v>{value}</v></c>'
        return text_cell_xml(ref, str(value), text_style)

    def decimal(ref: str, text_style: str, value: Decimal) -> str:
        number = f"{value:f}"
        # Up to 15 characters there are at most 15 digits and no extreme exponent.
        if (len(number) <= MAX_EXACT_DIGITS and value.is_finite()) or is_exact_number(value):
            return f'<c r="{ref}"><v>{number}</v></c>'
        return text_cell_xml(ref, format_decimal(value, locale), text_style)

    def calendar_date(ref: str, text_style: str, value: date) -> str:
        if value.toordinal() >= first_serial:
            return f'<c r="{ref}"{date_style}><v>{excel_serial(value)}</v></c>'
        return text_cell_xml(ref, format_local_date(value, locale), text_style)

    def date_time(ref: str, text_style: str, value: datetime) -> str:
        if value.toordinal() >= first_serial:
            return f'<c r="{ref}"{datetime_style}><v>{excel_serial(value)}</v></c>'
        return text_cell_xml(ref, format_local_datetime(value, locale), text_style)

    return {bool: boolean, int: integer, Decimal: decimal, date: calendar_date, datetime: date_time}
