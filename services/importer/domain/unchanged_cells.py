"""Quick proof that a cell still holds the contact's current value, for the untouched
cells that make up most of a round trip (a million rows of twenty columns is twenty
million cells, most of them as the export wrote them).

A check answers True only where the full judgement (parse the cell, compare it with the
stored value) would find the cell unchanged with nothing to report. False means "judge
it in full", never "changed", so a check can only make validation faster, not different.
Checks compare the cell as read with the text the export writes for the stored value
(or, for XLSX, with the typed value it writes), without parsing the cell.

Fields whose cells take few distinct values (owner, stage, boolean, select options)
instead remember which (cell, stored value) pairs the full judgement found unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.importer.domain.number_parsing import decimal_mark
from services.importer.domain.sheet import CellValue
from shared.cells import local_wall_time
from shared.fields import MULTI_VALUE_SEPARATOR, FieldType

CellCheck = Callable[[CellValue, object], bool]
MemoKey = Callable[[CellValue, object], Hashable | None]

# Per column; beyond this the column is not of few values after all and stops learning.
MAX_REMEMBERED_PAIRS = 4096

_PLAIN_TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL})
_LIST_TYPES = frozenset({FieldType.EMAIL_LIST, FieldType.PHONE_LIST, FieldType.TAG_LIST})
_FEW_VALUE_TYPES = frozenset(
    {FieldType.OWNER, FieldType.LIFECYCLE_STAGE, FieldType.BOOLEAN, FieldType.SINGLE_SELECT, FieldType.MULTI_SELECT}
)
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_HASHABLE_SCALARS = (str, int, bool, type(None))


def _never(cell: CellValue, current: object) -> bool:
    return False


def _same_text(cell: CellValue, current: object) -> bool:
    # Text, email, phone, URL: an equal string is equal under each one's comparison.
    return cell.__class__ is str and cell == current


def _same_list(cell: CellValue, current: object) -> bool:
    if cell.__class__ is not str or current.__class__ is not list or not current:
        return False
    try:
        return cell.strip() == MULTI_VALUE_SEPARATOR.join(current)  # type: ignore[arg-type]
    except TypeError:  # a stored item that is not text: judged in full
        return False


def _same_integer(cell: CellValue, current: object) -> bool:
    if current.__class__ is not int:
        return False
    kind = cell.__class__
    if kind is str:
        return cell == str(current)
    return (kind is int or kind is float) and cell == current


def _decimal_check(sheet_locale: str) -> CellCheck:
    comma = decimal_mark(sheet_locale) == ","

    def same_decimal(cell: CellValue, current: object) -> bool:
        if cell.__class__ is not str or current.__class__ is not str:
            return False
        shown = current.replace(".", ",") if comma else current  # type: ignore[attr-defined]
        return cell == shown and _PLAIN_DECIMAL.fullmatch(current) is not None  # type: ignore[arg-type]

    return same_decimal


def _same_date(cell: CellValue, current: object) -> bool:
    if current.__class__ is not str or len(current) != 10:  # type: ignore[arg-type]
        return False
    text: str = current  # type: ignore[assignment]
    kind = cell.__class__
    if kind is str:
        same = (
            cell == text
            or (  # ISO as the en export writes it, or dd/mm/yyyy
                len(cell) == 10  # type: ignore[arg-type]
                and cell[2] == cell[5] == "/"  # type: ignore[index]
                and cell[0:2] == text[8:10]  # type: ignore[index]
                and cell[3:5] == text[5:7]  # type: ignore[index]
                and cell[6:10] == text[0:4]  # type: ignore[index]
            )
        )
    elif kind is datetime:
        same = cell.hour == cell.minute == cell.second == cell.microsecond == 0 and cell.date().isoformat() == text  # type: ignore[union-attr]
    elif kind is date:
        same = cell.isoformat() == text  # type: ignore[union-attr]
    else:
        return False
    if not same or text[4] != "-" or text[7] != "-":
        return False
    try:
        date.fromisoformat(text)  # with "-" at 4 and 7, only YYYY-MM-DD reads: a real date
    except ValueError:
        return False
    return True


def _datetime_check(timezone: str) -> CellCheck:
    zone = ZoneInfo(timezone)

    def same_datetime(cell: CellValue, current: object) -> bool:
        if current.__class__ is not str:
            return False
        kind = cell.__class__
        if kind is str:
            if len(cell) != 19 or cell[10] != " ":  # type: ignore[arg-type,index]
                return False
            if cell[2] == cell[5] == "/":  # type: ignore[index]
                # dd/mm/yyyy hh:mm:ss → yyyy-mm-dd hh:mm:ss, to compare with ISO text
                cell = cell[6:10] + "-" + cell[3:5] + "-" + cell[0:2] + cell[10:]  # type: ignore[index,operator]
        elif kind is not datetime or cell.tzinfo is not None:  # type: ignore[union-attr]
            return False
        try:
            moment = datetime.fromisoformat(current)  # type: ignore[arg-type]
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        try:
            local = moment.astimezone(zone)  # what the export shows: local time, to the second
        except OverflowError:  # within a day of year 1 or 9999: see local_wall_time
            wall = local_wall_time(moment, zone)
            if wall is None:
                return False  # the export wrote the stored text: the full judgement reads it
            local = wall
        if kind is datetime:
            return cell == datetime(local.year, local.month, local.day, local.hour, local.minute, local.second)
        # isoformat pads the year to four digits; [:19] drops fractions and the offset.
        return cell == local.isoformat(" ")[:19]

    return same_datetime


def cell_check(field_type: FieldType, sheet_locale: str, timezone: str) -> CellCheck:
    """The quick check for one field type (see the module docstring)."""
    if field_type in _PLAIN_TEXT_TYPES:
        return _same_text
    if field_type in _LIST_TYPES:
        return _same_list
    if field_type is FieldType.NUMBER:
        return _same_integer
    if field_type is FieldType.DECIMAL:
        return _decimal_check(sheet_locale)
    if field_type is FieldType.DATE:
        return _same_date
    if field_type is FieldType.DATETIME:
        return _datetime_check(timezone)
    return _never


def _scalar_key(cell: CellValue, current: object) -> Hashable | None:
    # Classes are part of the key: 1, 1.0 and True are equal but read differently.
    if current.__class__ in _HASHABLE_SCALARS:
        return (cell.__class__, cell, current.__class__, current)
    return None


def _text_list_key(cell: CellValue, current: object) -> Hashable | None:
    if current.__class__ is list and all(item.__class__ is str for item in current):  # type: ignore[attr-defined]
        return (cell.__class__, cell, tuple(current))  # type: ignore[arg-type]
    if current is None:
        return (cell.__class__, cell, None)
    return None


def memo_key(field_type: FieldType) -> MemoKey | None:
    """How to remember a (cell, stored value) pair for fields of few values; None for
    the others. The pair's judgement depends on nothing else (the account's owners,
    stages, options and the import's options are fixed for the run)."""
    if field_type not in _FEW_VALUE_TYPES:
        return None
    return _text_list_key if field_type is FieldType.MULTI_SELECT else _scalar_key
