"""How a contact value is written into a spreadsheet cell, per locale.

The export writes cells with these functions; the importer's parsers accept everything
they produce (and more), so that an untouched export re-imports with no change. The
round trip is checked by property tests in tests/unit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shared.fields import normalize_header

if TYPE_CHECKING:
    from shared.contacts_api import AccountContext

DEFAULT_LOCALE = "pt-BR"
SUPPORTED_LOCALES = ("pt-BR", "en")
DEFAULT_TIMEZONE = "America/Sao_Paulo"

# OWASP "CSV injection": a cell that starts with one of these may be run as a formula by
# a spreadsheet program that opens a CSV.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_QUOTE = "'"


def escape_formula(text: str) -> str:
    """Neutralises a CSV text cell that a spreadsheet could read as a formula.

    The rule is a bijection so that `unescape_formula` restores every value exactly: a
    leading quote is added before a trigger character, and before a value that already
    starts with a quote followed by a trigger or another quote (else that value would be
    mistaken for an escaped one on the way back).
    """
    if not text:
        return text
    if text[0] in FORMULA_TRIGGERS or _starts_like_escaped(text):
        return _QUOTE + text
    return text


def unescape_formula(text: str) -> str:
    """Undoes `escape_formula`; any other text is returned unchanged."""
    if _starts_like_escaped(text):
        return text[1:]
    return text


def _starts_like_escaped(text: str) -> bool:
    return len(text) > 1 and text[0] == _QUOTE and (text[1] in FORMULA_TRIGGERS or text[1] == _QUOTE)


def format_boolean(value: bool, locale: str = DEFAULT_LOCALE) -> str:
    if locale == "en":
        return "Yes" if value else "No"
    return "SIM" if value else "NÃO"


def format_decimal(value: Decimal, locale: str = DEFAULT_LOCALE) -> str:
    """Plain notation, no thousands separator (Excel and LibreOffice read it as a number
    in a pt-BR locale); a comma for the decimal mark in pt-BR."""
    text = format(value, "f")
    return text.replace(".", ",") if locale != "en" else text


def format_date(value: date, locale: str = DEFAULT_LOCALE) -> str:
    # Not strftime: it writes years before 1000 with fewer than four digits on Linux.
    if locale == "en":
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def to_local(value: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """A stored instant in the account's time zone, naive, to the second: spreadsheets
    have no time zones and users read local time. A naive value is taken as UTC (never as
    the server's own zone). ValueError if that local time is outside years 1 to 9999."""
    local = local_wall_time(value, ZoneInfo(timezone))
    if local is None:
        raise ValueError(f"{value.isoformat()} is outside years 1 to 9999 in {timezone}")
    return local


def local_wall_time(instant: datetime, zone: tzinfo) -> datetime | None:
    """`instant`'s wall-clock time in `zone`, naive, to the second; None when that time is
    outside years 1 to 9999, which Python's datetime cannot hold. A naive instant is UTC.

    `astimezone` goes through UTC, which overflows within a day of those ends even where
    the local time exists: 9999-12-31T23:59:59-01:00 is in year 10000 in UTC and at
    31/12/9999 21:59:59 in São Paulo. There the zone's offset is read at the wall time
    instead (no zone changes its rules in years 1 or 9999)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    try:
        local = instant.astimezone(zone)
    except OverflowError:
        return _wall_time_past_utc_range(instant, zone)
    return local.replace(tzinfo=None, microsecond=0)


def _wall_time_past_utc_range(instant: datetime, zone: tzinfo) -> datetime | None:
    wall = instant.replace(tzinfo=None)
    own_offset = instant.utcoffset() or timedelta(0)
    try:
        guess = wall + ((zone.utcoffset(wall) or timedelta(0)) - own_offset)
        local = wall + ((zone.utcoffset(guess) or timedelta(0)) - own_offset)
    except OverflowError:
        return None
    return local.replace(microsecond=0)


def format_datetime(value: datetime, locale: str = DEFAULT_LOCALE, timezone: str = DEFAULT_TIMEZONE) -> str:
    local = to_local(value, timezone)
    return f"{format_date(local.date(), locale)} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def owner_labels(context: AccountContext) -> dict[int, str]:
    """Owner id → what the Responsável column shows: the name, or the email for owners
    whose name another owner of the account also has (folded as the importer matches
    headers and names), so that the importer can resolve every cell to one owner."""
    holders: dict[str, int] = {}
    for owner in context.owners:
        folded = normalize_header(owner.name)
        holders[folded] = holders.get(folded, 0) + 1
    return {
        owner.id: owner.name if owner.name.strip() and holders[normalize_header(owner.name)] == 1 else owner.email
        for owner in context.owners
    }
