"""Dates and date-times as Brazilian spreadsheets hold them.

Text: `dd/mm/yyyy` (also `d/m/yyyy`, `-` or `.` between parts) and ISO `yyyy-mm-dd`,
each with an optional time `hh:mm[:ss]`. A slash date is always day first: the en export
writes ISO, so `mm/dd/yyyy` never needs reading and is never guessed. Two-digit years are
refused (the century is a guess). XLSX gives date/datetime cells, or serial numbers when a
column is not formatted as a date (Excel's 1900 system). Naive date-times are local time in
the account's time zone; the canonical form is ISO 8601 with that zone's offset.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.sheet import CellValue
from shared.cells import local_wall_time

_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 with Excel's leap-year bug
_MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DAY_FIRST_SHORT_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2})$")
_YEAR_FIRST = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?$")
# The date-times the export writes (pt-BR and en), read first: an edited row's updated_at
# is read for the conflict check, and the general reading costs twice as much.
_EXPORTED_DAY_FIRST = re.compile(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)", re.ASCII)
_EXPORTED_YEAR_FIRST = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", re.ASCII)


def parse_date(cell: CellValue) -> date | ParseProblem:
    if isinstance(cell, datetime):
        if cell.time() != time(0):
            return ParseProblem("date_has_time", {"value": cell.isoformat(sep=" ")})
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        moment = _from_excel_serial(cell)
        if moment is None:
            return ParseProblem("invalid_date", {"value": str(cell)})
        if moment.time() != time(0):
            return ParseProblem("date_has_time", {"value": str(cell)})
        return moment.date()
    if not isinstance(cell, str):
        return ParseProblem("invalid_date", {"value": "" if cell is None else str(cell)})
    text = cell.strip()
    date_text, time_text = _split_date_time(text)
    day = _date_from_text(date_text)
    if isinstance(day, ParseProblem):
        return ParseProblem(day.code, {"value": text})
    if time_text is not None:
        clock = _time_from_text(time_text)
        if clock is None:
            return ParseProblem("invalid_date", {"value": text})
        if clock != time(0):
            return ParseProblem("date_has_time", {"value": text})
    return day


def parse_datetime(cell: CellValue, timezone: str) -> datetime | ParseProblem:
    """An aware datetime (naive input read in `timezone`), to the second."""
    local = _parse_datetime_cell(cell)
    if isinstance(local, ParseProblem):
        return local
    if local.tzinfo is None:
        # fold=0: an ambiguous wall time (clocks set back) reads as its first occurrence.
        return local.replace(tzinfo=ZoneInfo(timezone), microsecond=0)
    return local.replace(microsecond=0)


def canonical_datetime(value: datetime, timezone: str) -> str:
    """ISO 8601 with the offset of `timezone`, or with the value's own where that zone's
    local time is outside years 1 to 9999 (the export writes such values as stored)."""
    zone = ZoneInfo(timezone)
    try:
        return value.astimezone(zone).replace(microsecond=0).isoformat()
    except OverflowError:  # within a day of year 1 or 9999: see local_wall_time
        wall = local_wall_time(value, zone)
        return (value.replace(microsecond=0) if wall is None else wall.replace(tzinfo=zone)).isoformat()


def _parse_datetime_cell(cell: CellValue) -> datetime | ParseProblem:
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        moment = _from_excel_serial(cell)
        return moment if moment is not None else ParseProblem("invalid_datetime", {"value": str(cell)})
    if not isinstance(cell, str):
        return ParseProblem("invalid_datetime", {"value": "" if cell is None else str(cell)})
    text = cell.strip()
    return _exported_datetime(text) or _datetime_from_text(text)


def _datetime_from_text(text: str) -> datetime | ParseProblem:
    date_text, time_text = _split_date_time(text)
    day = _date_from_text(date_text)
    if isinstance(day, ParseProblem):
        if day.code == "date_two_digit_year":
            return ParseProblem(day.code, {"value": text})
        return _iso_datetime(text)
    if time_text is None:
        return datetime(day.year, day.month, day.day)
    clock = _time_from_text(time_text)
    if clock is None:
        return _iso_datetime(text)
    return datetime.combine(day, clock)


def _exported_datetime(text: str) -> datetime | None:
    """What `_datetime_from_text` reads for the export's own shapes, in one match; None
    for any other text."""
    if match := _EXPORTED_DAY_FIRST.fullmatch(text):
        day, month, year, hour, minute, second = map(int, match.groups())
    elif match := _EXPORTED_YEAR_FIRST.fullmatch(text):
        year, month, day, hour, minute, second = map(int, match.groups())
    else:
        return None
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None  # the general reading says why


def _iso_datetime(text: str) -> datetime | ParseProblem:
    """Full ISO 8601, e.g. with an offset (`2024-05-01T10:00:00-03:00`, `…Z`)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return ParseProblem("invalid_datetime", {"value": text})


def _split_date_time(text: str) -> tuple[str, str | None]:
    for separator in (" ", "T"):
        if separator in text:
            date_text, _, time_text = text.partition(separator)
            return date_text, time_text.strip()
    return text, None


def _date_from_text(text: str) -> date | ParseProblem:
    if match := _DAY_FIRST.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _YEAR_FIRST.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif _DAY_FIRST_SHORT_YEAR.match(text):
        return ParseProblem("date_two_digit_year")
    else:
        return ParseProblem("invalid_date")
    try:
        return date(year, month, day)
    except ValueError:
        return ParseProblem("invalid_date")


def _time_from_text(text: str) -> time | None:
    match = _TIME.match(text)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    micro = int((match[4] or "0").ljust(6, "0"))
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        return None


def _from_excel_serial(serial: float) -> datetime | None:
    if not math.isfinite(serial) or not 1 <= serial <= _MAX_EXCEL_SERIAL:
        return None
    # Round to the second: serials are binary fractions of a day.
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86_400))
