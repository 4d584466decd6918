"""One cell of the sheet → the field's canonical value (as `shared.contacts_api` stores
it), or a `ParseProblem`.

Everything `shared.cells` writes reads back unchanged (property tests prove it), and so
do the forms Excel and LibreOffice write in a pt-BR locale. Empty cells read as the
field's empty value (None, or [] for lists); whether that clears the field is
validation's call. Text loses only leading/trailing whitespace, which validation does not
count as a change (see value_comparison).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.importer.domain.account_lookups import AccountLookups, fold
from services.importer.domain.date_parsing import canonical_datetime, parse_date, parse_datetime
from services.importer.domain.number_parsing import (
    canonical_decimal,
    parse_decimal,
    parse_id,
    parse_integer,
)
from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.sheet import CellValue, FormulaWithoutValue
from shared.bounds import NUL
from shared.cells import format_boolean, format_date
from shared.contacts_api import AccountContext
from shared.fields import FieldSpec, FieldType

LIST_TYPES = frozenset({FieldType.EMAIL_LIST, FieldType.PHONE_LIST, FieldType.TAG_LIST, FieldType.MULTI_SELECT})
DEFAULT_PHONE_REGION = "BR"

_LIST_SPLIT = re.compile(r"[,;]")
_BOOLEAN_WORDS = {
    **dict.fromkeys(("sim", "s", "true", "verdadeiro", "v", "yes", "y", "1"), True),
    **dict.fromkeys(("nao", "n", "false", "falso", "f", "no", "0"), False),
}

ParsedValue = Any  # a canonical JSON value: str, int, bool, list[str], None


def is_blank(cell: CellValue) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def empty_value(field_type: FieldType) -> list[str] | None:
    return [] if field_type in LIST_TYPES else None


class CellParser:
    """Parses cells for one account's fields. Build once per import (it indexes owners,
    stages and options), then call `parse` per cell."""

    def __init__(
        self,
        account: AccountContext,
        number_locale: str,
        *,
        validate_emails: bool = True,
        validate_phones: bool = True,
    ) -> None:
        self.lookups = AccountLookups(account)
        self.timezone = account.timezone
        self.number_locale = number_locale
        self.validate_emails = validate_emails
        self.validate_phones = validate_phones
        self._by_type: dict[FieldType, Callable[[CellValue, FieldSpec], ParsedValue | ParseProblem]] = {
            FieldType.ID: lambda cell, _: parse_id(cell),
            FieldType.TEXT: lambda cell, _: self._text(cell),
            FieldType.LONG_TEXT: lambda cell, _: _normalize_newlines(self._text(cell)),
            FieldType.NUMBER: lambda cell, _: parse_integer(cell, self.number_locale),
            FieldType.DECIMAL: self._decimal,
            FieldType.DATE: self._date,
            FieldType.DATETIME: self._datetime,
            FieldType.BOOLEAN: lambda cell, _: parse_boolean(cell),
            FieldType.EMAIL: lambda cell, _: self._email(_cell_text(cell, self.number_locale)),
            FieldType.PHONE: lambda cell, _: self._phone(_cell_text(cell, self.number_locale)),
            FieldType.URL: lambda cell, _: parse_url(_cell_text(cell, self.number_locale)),
            FieldType.SINGLE_SELECT: lambda cell, spec: self.lookups.option(
                _cell_text(cell, self.number_locale), spec.options
            ),
            FieldType.MULTI_SELECT: lambda cell, spec: self._list(
                cell, lambda item: self.lookups.option(item, spec.options), str.__str__
            ),
            FieldType.EMAIL_LIST: lambda cell, _: self._list(cell, self._email, str.casefold),
            FieldType.PHONE_LIST: lambda cell, _: self._list(cell, self._phone, str.__str__),
            FieldType.TAG_LIST: lambda cell, _: self._list(cell, lambda item: item, str.casefold),
            FieldType.OWNER: lambda cell, _: self.lookups.owner(_cell_text(cell, self.number_locale)),
            FieldType.LIFECYCLE_STAGE: lambda cell, _: self.lookups.stage(_cell_text(cell, self.number_locale)),
        }

    def parse(self, cell: CellValue, spec: FieldSpec) -> ParsedValue | ParseProblem:
        if isinstance(cell, str) and NUL in cell:
            # Excel writes a NUL as `_x0000_`; PostgreSQL text cannot hold it, so the row
            # would fail when applied, far from its cell.
            return ParseProblem("nul_character")
        if isinstance(cell, FormulaWithoutValue):
            return ParseProblem("formula_without_value", {"formula": cell.formula})
        if is_blank(cell):
            return empty_value(spec.type)
        return self._by_type[spec.type](cell, spec)

    def parse_datetime(self, cell: CellValue) -> datetime | ParseProblem:
        """An aware datetime, for checks that compare instants (the export's updated_at)."""
        return parse_datetime(cell, self.timezone)

    def _text(self, cell: CellValue) -> str | None:
        return _cell_text(cell, self.number_locale) or None

    def _decimal(self, cell: CellValue, _: FieldSpec) -> str | ParseProblem:
        value = parse_decimal(cell, self.number_locale)
        return value if isinstance(value, ParseProblem) else canonical_decimal(value)

    def _date(self, cell: CellValue, _: FieldSpec) -> str | ParseProblem:
        value = parse_date(cell)
        return value if isinstance(value, ParseProblem) else value.isoformat()

    def _datetime(self, cell: CellValue, _: FieldSpec) -> str | ParseProblem:
        value = parse_datetime(cell, self.timezone)
        return value if isinstance(value, ParseProblem) else canonical_datetime(value, self.timezone)

    def _email(self, text: str) -> str | ParseProblem:
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as error:
            if not self.validate_emails:
                return _lowercase_domain(text)
            return ParseProblem("invalid_email", {"value": text, "reason": str(error)})

    def _phone(self, text: str) -> str | ParseProblem:
        try:
            number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if not self.validate_phones:
            return text
        return ParseProblem("invalid_phone", {"value": text})

    def _list(
        self,
        cell: CellValue,
        parse_item: Callable[[str], str | ParseProblem],
        identity: Callable[[str], str],
    ) -> list[str] | ParseProblem:
        """`a, b; c` → [a, b, c]: each item parsed, repeats dropped (first kept)."""
        values: list[str] = []
        seen: set[str] = set()
        for item in _LIST_SPLIT.split(_cell_text(cell, self.number_locale)):
            item = item.strip()
            if not item:
                continue
            value = parse_item(item)
            if isinstance(value, ParseProblem):
                return value
            if identity(value) not in seen:
                seen.add(identity(value))
                values.append(value)
        return values


def parse_boolean(cell: CellValue) -> bool | ParseProblem:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    if isinstance(cell, str):
        value = _BOOLEAN_WORDS.get(fold(cell))
        if value is not None:
            return value
    return ParseProblem("invalid_boolean", {"value": "" if cell is None else str(cell).strip()})


def parse_url(text: str) -> str | ParseProblem:
    """Kept as typed; checked only for the shape of a web address (http/https or none)."""
    has_scheme = "://" in text
    try:
        parts = urlsplit(text if has_scheme else f"https://{text}")
    except ValueError:
        return ParseProblem("invalid_url", {"value": text})
    host = parts.hostname or ""
    if any(c.isspace() for c in text) or parts.scheme not in ("http", "https") or "." not in host:
        return ParseProblem("invalid_url", {"value": text})
    return text


def _cell_text(cell: CellValue, locale: str) -> str:
    """A typed XLSX cell in a text-like field, as the user saw it."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return format_boolean(cell, locale)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel turned "123" into 123.0
    if isinstance(cell, datetime):
        if cell.time() == time(0):
            return format_date(cell.date(), locale)
        return cell.strftime("%Y-%m-%d %H:%M:%S" if locale == "en" else "%d/%m/%Y %H:%M:%S")
    if isinstance(cell, date):
        return format_date(cell, locale)
    return "" if cell is None else str(cell).strip()


def _normalize_newlines(text: str | None) -> str | None:
    # Excel on Windows may keep CRLF inside a cell; contacts store LF.
    return None if text is None else text.replace("\r\n", "\n").replace("\r", "\n")


def _lowercase_domain(text: str) -> str:
    local, at, domain = text.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else text
