"""Whether a parsed cell says the same as the contact's stored value.

Only real changes are written, so an untouched export re-imports with no change even where
the sheet cannot show a stored value exactly: whitespace at the ends of text, CRLF in long
text, email case, the order of tags and options, decimals written with more or fewer
trailing zeros, and date-times (spreadsheets show local time to the second, which is how
they are compared; this also sidesteps the hour a DST change repeats).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from shared.cells import local_wall_time
from shared.fields import FieldType


def values_equal(field_type: FieldType, parsed: object, current: object, timezone: str) -> bool:
    if _is_empty(parsed) or _is_empty(current):
        return _is_empty(parsed) and _is_empty(current)
    same = _COMPARERS.get(field_type)
    if same is None:
        return parsed == current
    try:
        return same(parsed, current, timezone)
    except (TypeError, ValueError, InvalidOperation):
        return False  # a stored value of an unexpected shape: treat as a change


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list) and not value


def _text(parsed: object, current: object, _: str) -> bool:
    return str(parsed).strip() == str(current).strip()


def _long_text(parsed: object, current: object, _: str) -> bool:
    def normalized(value: object) -> str:
        return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()

    return normalized(parsed) == normalized(current)


def _casefolded(parsed: object, current: object, _: str) -> bool:
    return str(parsed).casefold() == str(current).casefold()


def _ordered_casefolded(parsed: object, current: object, _: str) -> bool:
    return [str(v).casefold() for v in _as_list(parsed)] == [str(v).casefold() for v in _as_list(current)]


def _set_casefolded(parsed: object, current: object, _: str) -> bool:
    return {str(v).casefold() for v in _as_list(parsed)} == {str(v).casefold() for v in _as_list(current)}


def _set_exact(parsed: object, current: object, _: str) -> bool:
    return set(map(str, _as_list(parsed))) == set(map(str, _as_list(current)))


def _ordered_exact(parsed: object, current: object, _: str) -> bool:
    return list(map(str, _as_list(parsed))) == list(map(str, _as_list(current)))


def _number(parsed: object, current: object, _: str) -> bool:
    return Decimal(str(parsed)) == Decimal(str(current))


def _date(parsed: object, current: object, _: str) -> bool:
    return _as_date(parsed) == _as_date(current)


def _datetime(parsed: object, current: object, timezone: str) -> bool:
    parsed_local, current_local = local_second(parsed, timezone), local_second(current, timezone)
    if parsed_local is None or current_local is None:
        # The zone cannot show one of them (local_second): the same only as one instant.
        return _instant(parsed, timezone).replace(microsecond=0) == _instant(current, timezone).replace(microsecond=0)
    return parsed_local == current_local


def local_second(value: object, timezone: str) -> datetime | None:
    """An instant (aware datetime or ISO text) as naive local time to the second; None if
    that is outside years 1 to 9999."""
    return local_wall_time(_instant(value, timezone), ZoneInfo(timezone))


def _instant(value: object, timezone: str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_list(value: object) -> list[object]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


_COMPARERS: dict[FieldType, Callable[[object, object, str], bool]] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _long_text,
    FieldType.URL: _text,
    FieldType.EMAIL: _casefolded,
    FieldType.EMAIL_LIST: _ordered_casefolded,
    FieldType.PHONE_LIST: _ordered_exact,
    FieldType.TAG_LIST: _set_casefolded,
    FieldType.MULTI_SELECT: _set_exact,
    FieldType.NUMBER: _number,
    FieldType.DECIMAL: _number,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
}
