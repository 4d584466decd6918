"""parse(format(x)) == x: every value the export writes (shared.cells) reads back as it was,
in both locales, as CSV text and as typed XLSX cells."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import assume, given
from hypothesis import strategies as st

from services.importer.domain.cell_parsing import CellParser
from services.importer.domain.date_parsing import canonical_datetime
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.value_comparison import values_equal
from shared.cells import (
    escape_formula,
    format_boolean,
    format_date,
    format_datetime,
    format_decimal,
    to_local,
    unescape_formula,
)
from shared.fields import MULTI_VALUE_SEPARATOR, FieldType

from .builders import OWNERS, STAGES, TZ, account

LOCALES = ("pt-BR", "en")
FIELDS = AccountFields.from_account(account())
PARSERS = {locale: CellParser(account(locale=locale), locale) for locale in LOCALES}
locales = st.sampled_from(LOCALES)


def parse(cell: object, key: str, locale: str) -> object:
    return PARSERS[locale].parse(cell, FIELDS.by_key[key])  # type: ignore[arg-type]


def csv_cell(text: str) -> str:
    """What a CSV reader hands over after the export escaped the cell."""
    return unescape_formula(escape_formula(text))


@given(st.booleans(), locales)
def test_boolean(value: bool, locale: str) -> None:
    assert parse(format_boolean(value, locale), "legal_entity", locale) is value
    assert parse(value, "legal_entity", locale) is value


decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=6)


@given(decimals, locales)
def test_decimal(value: Decimal, locale: str) -> None:
    parsed = parse(format_decimal(value, locale), "renda", locale)
    assert parsed == format(value, "f")
    assert Decimal(str(parsed)) == value


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15), locales)
def test_decimal_from_an_xlsx_float(value: float, locale: str) -> None:
    parsed = parse(value, "renda", locale)
    assert float(Decimal(str(parsed))) == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), locales)
def test_integer(value: int, locale: str) -> None:
    assert parse(str(value), "funcionarios", locale) == value
    assert parse(value, "funcionarios", locale) == value


@given(st.integers(min_value=1, max_value=2**63 - 1), locales)
def test_id(value: int, locale: str) -> None:
    assert parse(str(value), "id", locale) == value
    assert parse(value, "id", locale) == value
    if value <= 2**53:
        assert parse(float(value), "id", locale) == value


# Every year a date can hold, written with four digits (year 1 is 0001).
dates = st.dates(min_value=date(1, 1, 2))


@given(dates, locales)
def test_date(value: date, locale: str) -> None:
    assert parse(format_date(value, locale), "fundacao", locale) == value.isoformat()
    assert parse(value, "fundacao", locale) == value.isoformat()
    assert parse(datetime(value.year, value.month, value.day), "fundacao", locale) == value.isoformat()


instants = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@given(instants, locales)
def test_datetime(value: datetime, locale: str) -> None:
    parsed = parse(format_datetime(value, locale, TZ), "ultimo_contato", locale)
    # Spreadsheets show local time to the second; that is what must come back...
    assert values_equal(FieldType.DATETIME, parsed, value, TZ)
    # ...and the very instant, except in the hour a DST end repeats (fold), which local
    # wall time cannot tell apart.
    local = to_local(value, TZ)
    zone = ZoneInfo(TZ)
    if local.replace(tzinfo=zone, fold=0).utcoffset() == local.replace(tzinfo=zone, fold=1).utcoffset():
        assert parsed == canonical_datetime(value.replace(microsecond=0), TZ)


@given(instants, locales)
def test_datetime_from_an_xlsx_cell(value: datetime, locale: str) -> None:
    parsed = parse(to_local(value, TZ), "ultimo_contato", locale)
    assert values_equal(FieldType.DATETIME, parsed, value, TZ)


# What the export writes comes from stored values, and PostgreSQL's text never holds NUL
# (a cell with one is an error: test_nul_cells).
storable_characters = st.characters(codec="utf-8", exclude_characters="\x00")
storable_text = st.text(alphabet=storable_characters)


@given(storable_text, locales)
def test_text(value: str, locale: str) -> None:
    assume(value == value.strip())
    expected = value or None
    assert parse(csv_cell(value), "company", locale) == expected
    assert parse(value, "company", locale) == expected


@given(storable_text, locales)
def test_text_with_whitespace_at_the_ends_is_not_a_change(value: str, locale: str) -> None:
    assert values_equal(FieldType.TEXT, parse(csv_cell(value), "company", locale), value, TZ)


@given(st.text(alphabet=storable_characters, min_size=1), locales)
def test_long_text_with_line_breaks(value: str, locale: str) -> None:
    parsed = parse(csv_cell(value), "observacoes", locale)
    assert values_equal(FieldType.LONG_TEXT, parsed, value, TZ)
    if "\r" not in value and value == value.strip():
        assert parsed == value


_local_part = st.from_regex(r"\A[A-Za-z0-9_+-]{1,12}(\.[A-Za-z0-9_+-]{1,8}){0,2}\Z")
_domain = st.from_regex(r"\A[a-z0-9]{1,10}(-[a-z0-9]{1,5})?\.(com|com\.br|org|io|net\.br)\Z")
emails = st.builds(lambda local, domain: f"{local}@{domain}", _local_part, _domain)


def normalized(email: str) -> str:
    """As email-validator normalises: the mailbox names of RFC 2142 (`FTP`, `Sales`) are
    case-insensitive, and lowercased. The comparison with stored values folds case, so
    an untouched one stays unchanged."""
    local = email.partition("@")[0]
    return email.lower() if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES else email


@given(st.lists(emails, max_size=4, unique_by=str.casefold), locales)
def test_email_list(value: list[str], locale: str) -> None:
    parsed = parse(MULTI_VALUE_SEPARATOR.join(value), "emails", locale)
    assert parsed == [normalized(email) for email in value]
    assert values_equal(FieldType.EMAIL_LIST, parsed, value, TZ)


@given(emails, locales)
def test_email(value: str, locale: str) -> None:
    parsed = parse(value, "email_cobranca", locale)
    assert parsed == normalized(value)
    assert values_equal(FieldType.EMAIL, parsed, value, TZ)


@pytest.mark.parametrize("role", ["FTP", "Sales", "POSTMASTER"])
def test_rfc_2142_mailbox_names_are_lowercased_and_still_equal(role: str) -> None:
    parsed = parse(f"{role}@Empresa.com.br", "email_cobranca", "pt-BR")
    assert parsed == f"{role.lower()}@empresa.com.br"
    assert values_equal(FieldType.EMAIL, parsed, f"{role}@empresa.com.br", TZ)


_ddd = st.sampled_from(["11", "21", "31", "41", "47", "51", "61", "71", "81", "85", "92"])
_mobile = st.builds(lambda ddd, n: f"+55{ddd}9{n:08d}", _ddd, st.integers(0, 99_999_999))


@given(st.lists(_mobile, max_size=3, unique=True), locales)
def test_phone_list(value: list[str], locale: str) -> None:
    assume(all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in value))
    assert parse(csv_cell(MULTI_VALUE_SEPARATOR.join(value)), "phones", locale) == value


_tag = st.text(alphabet=storable_characters, min_size=1, max_size=15).filter(
    lambda t: t == t.strip() and not set(t) & set(",;")
)


@given(st.lists(_tag, max_size=5, unique_by=str.casefold), locales)
def test_tag_list(value: list[str], locale: str) -> None:
    assert parse(csv_cell(MULTI_VALUE_SEPARATOR.join(value)), "tags", locale) == value


@given(st.lists(st.sampled_from(["Café", "Chá", "Água"]), unique=True), locales)
def test_multi_select(value: list[str], locale: str) -> None:
    assert parse(MULTI_VALUE_SEPARATOR.join(value), "interesses", locale) == value


@given(st.sampled_from(["Varejo", "Indústria", "Serviços"]), locales)
def test_single_select(value: str, locale: str) -> None:
    assert parse(value, "segmento", locale) == value


@pytest.mark.parametrize("owner", [o for o in OWNERS if o.name != "João Silva"], ids=str)
@pytest.mark.parametrize("locale", LOCALES)
def test_owner_by_the_name_the_export_writes(owner: object, locale: str) -> None:
    assert parse(owner.name, "owner", locale) == owner.id  # type: ignore[attr-defined]
    assert parse(owner.email, "owner", locale) == owner.id  # type: ignore[attr-defined]


@pytest.mark.parametrize("stage", STAGES, ids=str)
@pytest.mark.parametrize("locale", LOCALES)
def test_lifecycle_stage_by_the_name_the_export_writes(stage: object, locale: str) -> None:
    assert parse(stage.name, "lifecycle_stage", locale) == stage.key  # type: ignore[attr-defined]


def test_the_hour_a_dst_end_repeats_is_still_no_change() -> None:
    # São Paulo left DST on 2018-02-18: 23:00-23:59 local happened twice.
    second_pass = datetime(2018, 2, 18, 2, 30, tzinfo=UTC)  # 23:30 local, the 2nd time
    text = format_datetime(second_pass, "pt-BR", TZ)
    assert text == "17/02/2018 23:30:00"
    parsed = parse(text, "ultimo_contato", "pt-BR")
    assert values_equal(FieldType.DATETIME, parsed, second_pass, TZ)
    assert parsed != canonical_datetime(second_pass, TZ)  # the instant itself is ambiguous
    assert datetime.fromisoformat(str(parsed)) == second_pass - timedelta(hours=1)
