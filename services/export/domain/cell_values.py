"""What each cell of an exported contact holds, before a file format writes it.

A cell value is typed, because XLSX stores numbers and dates as such, while CSV writes
the text of shared.cells:

- `str`: text, as the user reads it (IDs, phones, names, joined lists, SIM/NÃO too are
  strings only once a writer formats them: see `bool`);
- `int`, `Decimal`: a number the file may store as a number;
- `date`, `datetime`: a calendar value; datetimes are already in the account's time
  zone, naive and to the second (spreadsheets have no time zones);
- `bool`: written as SIM/NÃO (en: Yes/No) in both formats;
- `None`: an empty cell.

Readers are compiled once per export (`CellReader`), so that the per-row cost is one
call per column: an export of a million contacts reads twenty million cells.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from services.export.domain.columns import ExportColumn
from shared.cells import format_boolean, format_decimal, local_wall_time, owner_labels
from shared.contacts_api import AccountContext, ContactRecord, StreamedContact
from shared.fields import MULTI_VALUE_SEPARATOR, FieldType

CellValue = str | int | Decimal | date | datetime | bool | None
# A contact as the stream gives it, validated or not.
Contact = ContactRecord | StreamedContact
ValueReader = Callable[[Contact], CellValue]


class CellReader:
    """Reads the cells of one export's columns from contacts."""

    def __init__(self, columns: Sequence[ExportColumn], context: AccountContext) -> None:
        self.columns = tuple(columns)
        self._zone: tzinfo = ZoneInfo(context.timezone)
        self._owner_labels = owner_labels(context)
        self._stage_names = {stage.key: stage.name for stage in context.lifecycle_stages}
        self.readers: tuple[ValueReader, ...] = tuple(self._reader_for(c) for c in self.columns)

    def row(self, contact: Contact) -> list[CellValue]:
        return [read(contact) for read in self.readers]

    def _reader_for(self, column: ExportColumn) -> ValueReader:
        field = column.field
        if not field.custom:
            return self._standard_reader(field.key)
        return self._custom_reader(field.key, field.type)

    def _standard_reader(self, key: str) -> ValueReader:
        # One function per column reading its attribute directly (not getattr): this runs
        # for every cell of every contact.
        zone = self._zone
        join = MULTI_VALUE_SEPARATOR.join
        if key == "id":
            # Text, so that no spreadsheet shows a long id as 1,23E+18 or rounds it.
            return lambda contact: str(contact.id)
        if key == "name":
            return lambda contact: contact.name or None
        if key == "company":
            return lambda contact: contact.company or None
        if key == "job_title":
            return lambda contact: contact.job_title or None
        # Typed list[str] on ContactRecord: joined as they are.
        if key == "emails":
            return lambda contact: join(contact.emails) or None
        if key == "phones":
            return lambda contact: join(contact.phones) or None
        if key == "tags":
            return lambda contact: join(contact.tags) or None
        if key == "lifecycle_stage":
            names = self._stage_names
            # An unknown key is shown as is: an export never drops a stored value.
            return lambda contact: (
                names.get(contact.lifecycle_stage, contact.lifecycle_stage) if contact.lifecycle_stage else None
            )
        if key == "owner":
            labels = self._owner_labels
            return lambda contact: (
                labels.get(contact.owner_id, str(contact.owner_id)) if contact.owner_id is not None else None
            )
        if key == "legal_entity":
            return lambda contact: contact.legal_entity
        if key == "created_at":
            return lambda contact: to_local_naive(contact.created_at, zone)
        if key == "updated_at":
            return lambda contact: to_local_naive(contact.updated_at, zone)
        raise ValueError(f"no reader for standard field {key!r}")

    def _custom_reader(self, key: str, field_type: FieldType) -> ValueReader:
        """One call per cell: the canonical value is taken inline, anything else goes to
        the field type's converter below (which gives the same result for canonical
        values too)."""
        zone = self._zone
        if field_type is FieldType.NUMBER:

            def read_number(contact: Contact) -> CellValue:
                raw = contact.custom_fields.get(key)
                return raw if raw.__class__ is int else custom_number(raw)

            return read_number
        if field_type is FieldType.DECIMAL:

            def read_decimal(contact: Contact) -> CellValue:
                raw = contact.custom_fields.get(key)
                if raw.__class__ is str and raw:
                    try:
                        return Decimal(raw)
                    except InvalidOperation:
                        return raw
                return custom_decimal(raw)

            return read_decimal
        if field_type is FieldType.DATE:

            def read_date(contact: Contact) -> CellValue:
                raw = contact.custom_fields.get(key)
                if raw.__class__ is str and raw:
                    try:
                        return date.fromisoformat(raw)
                    except ValueError:
                        return raw
                return custom_date(raw)

            return read_date
        if field_type is FieldType.DATETIME:
            return lambda contact: custom_datetime(contact.custom_fields.get(key), zone)
        if field_type is FieldType.BOOLEAN:

            def read_boolean(contact: Contact) -> CellValue:
                raw = contact.custom_fields.get(key)
                return raw if raw is None or raw.__class__ is bool else custom_boolean(raw)

            return read_boolean
        if field_type is FieldType.MULTI_SELECT:
            join = MULTI_VALUE_SEPARATOR.join

            def read_options(contact: Contact) -> CellValue:
                raw = contact.custom_fields.get(key)
                if raw.__class__ is list:
                    try:
                        return join(raw) or None
                    except TypeError:  # an option that is not a string
                        return join_values(raw)
                return custom_multi_select(raw)

            return read_options

        # Most custom fields hold plain text.
        def read_text(contact: Contact) -> CellValue:
            raw = contact.custom_fields.get(key)
            return raw if raw.__class__ is str and raw else custom_text(raw)

        return read_text


def join_values(values: Sequence[Any]) -> str | None:
    return MULTI_VALUE_SEPARATOR.join(map(str, values)) if values else None


def to_local_naive(instant: datetime, zone: tzinfo) -> datetime:
    """As shared.cells.to_local, with the zone resolved once; a naive instant is UTC (the
    contacts service stores aware instants, so this is only a guard). ValueError if the
    local time is outside years 1 to 9999."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    try:
        local = instant.astimezone(zone)
    except OverflowError:  # within a day of year 1 or 9999: see local_wall_time
        wall = local_wall_time(instant, zone)
        if wall is None:
            raise ValueError(f"{instant.isoformat()} is outside years 1 to 9999 in {zone}") from None
        return wall
    # The constructor, not .replace(): three times faster, and there are millions.
    return datetime(local.year, local.month, local.day, local.hour, local.minute, local.second)


# Custom field values are canonical JSON (shared/contacts_api.py). A value that does not
# have its field's canonical form is exported as its text, never dropped: the importer
# then reports it, which is better than an export that silently loses it.


def custom_text(raw: Any) -> CellValue:
    if raw is None or raw == "":
        return None
    return raw if isinstance(raw, str) else _as_text(raw)


def custom_number(raw: Any) -> CellValue:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return _as_text(raw)


def custom_decimal(raw: Any) -> CellValue:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return _as_text(raw)
    try:
        return Decimal(raw) if isinstance(raw, str | int) else Decimal(repr(raw))
    except (InvalidOperation, TypeError, ValueError):
        return _as_text(raw)


def custom_date(raw: Any) -> CellValue:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        return _as_text(raw)


def custom_datetime(raw: Any, zone: tzinfo) -> CellValue:
    if raw is None or raw == "":
        return None
    try:
        return to_local_naive(datetime.fromisoformat(raw), zone)
    except (TypeError, ValueError):
        return _as_text(raw)


def custom_boolean(raw: Any) -> CellValue:
    if raw is None or isinstance(raw, bool):
        return raw
    return _as_text(raw)


def custom_multi_select(raw: Any) -> CellValue:
    if raw is None or raw == "":
        return None
    if isinstance(raw, list | tuple):
        try:
            return MULTI_VALUE_SEPARATOR.join(raw) or None
        except TypeError:  # an option that is not a string
            return join_values(raw)
    return _as_text(raw)


def _as_text(raw: Any) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)


# --- the text of a cell, as CSV writes it ---------------------------------------------


# Dates and datetimes have the layouts of shared.cells.format_date/format_datetime (years
# of four digits, so that year 999 reads back), built from a table of two-digit numbers
# because strftime costs three times as much and an export formats millions of them.
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))


def format_local_date(value: date, locale: str) -> str:
    return _format_date_en(value) if locale == "en" else _format_date_pt_br(value)


def format_local_datetime(local: datetime, locale: str) -> str:
    """A datetime already in the account's zone (see `to_local_naive`)."""
    return _format_datetime_en(local) if locale == "en" else _format_datetime_pt_br(local)


def _format_date_en(value: date, two: tuple[str, ...] = _TWO_DIGITS) -> str:
    return f"{value.year:04d}-{two[value.month]}-{two[value.day]}"


def _format_date_pt_br(value: date, two: tuple[str, ...] = _TWO_DIGITS) -> str:
    return f"{two[value.day]}/{two[value.month]}/{value.year:04d}"


def _format_datetime_en(local: datetime, two: tuple[str, ...] = _TWO_DIGITS) -> str:
    return (
        f"{local.year:04d}-{two[local.month]}-{two[local.day]} "
        f"{two[local.hour]}:{two[local.minute]}:{two[local.second]}"
    )


def _format_datetime_pt_br(local: datetime, two: tuple[str, ...] = _TWO_DIGITS) -> str:
    return (
        f"{two[local.day]}/{two[local.month]}/{local.year:04d} "
        f"{two[local.hour]}:{two[local.minute]}:{two[local.second]}"
    )


def text_formatters(locale: str) -> dict[type, Callable[[Any], str]]:
    """Cell value type → its text in `locale` (str is left out: text is written as is).
    Each is one call with the locale already chosen: the CSV writer makes millions."""
    english = locale == "en"
    return {
        bool: {True: format_boolean(True, locale), False: format_boolean(False, locale)}.__getitem__,
        int: str,
        Decimal: partial(format_decimal, locale=locale),
        date: _format_date_en if english else _format_date_pt_br,
        datetime: _format_datetime_en if english else _format_datetime_pt_br,
    }


def text_cells(
    columns: Sequence[ExportColumn], context: AccountContext, locale: str
) -> Callable[[Contact], list[str | None]]:
    """A contact's cells as a CSV of these columns shows them before formula escaping,
    i.e. as a CSV reader reads them back (None for an empty cell): the reference for
    renditions of the same cells elsewhere (the contacts service renders them in SQL for
    the importer's quick check)."""
    readers = CellReader(columns, context).readers
    formatters = text_formatters(locale)

    def cells(contact: Contact) -> list[str | None]:
        shown: list[str | None] = []
        for read in readers:
            value = read(contact)
            if value is None or value.__class__ is str:
                shown.append(value or None)  # type: ignore[arg-type]  # an empty text reads back as empty
            else:
                shown.append(formatters[value.__class__](value))
        return shown

    return cells


def cell_text(value: CellValue, locale: str) -> str:
    """The text of a cell as a CSV shows it, before formula escaping ("" when empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return text_formatters(locale)[type(value)](value)
