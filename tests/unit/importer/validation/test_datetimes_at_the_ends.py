"""Custom date-times within a day of years 1 and 9999, which the contacts API takes with
any offset. There `datetime.astimezone` overflows (it goes through UTC), although the
local time may exist: 9999-12-31T23:59:59-01:00 is 31/12/9999 21:59:59 in São Paulo.

The export writes the local time, or the stored text where the account's zone cannot
show it (as the contacts service's SQL rendition does), and an untouched export re-imports
with every row unchanged, from a CSV and from an XLSX. Before, the XLSX export failed on
such a value and the importer raised OverflowError on it; the fuzzer's cells target found
the importer's (`0001-01-01 01-01`, which fromisoformat reads as 01:00 at offset -01:00)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.export.domain.cell_values import CellReader, custom_datetime, text_cells
from services.export.domain.columns import ExportColumn, available_fields
from services.importer.domain.cell_parsing import CellParser
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.sheet import RawRow
from services.importer.domain.unchanged_cells import cell_check
from shared.fields import FieldType

from .builders import TZ, account, contact, export_headers, setup_for, validate

KEYS = ["id", "name", "updated_at", "ultimo_contato"]
_offsets = st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(lambda seconds: timezone(timedelta(seconds=seconds)))
_zones = st.one_of(_offsets, st.just(ZoneInfo(TZ)))
_at_the_ends = st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2, 23, 59, 59), timezones=_zones),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=_zones),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_at_the_ends, min_size=1, max_size=6), st.sampled_from(["pt-BR", "en"]), st.booleans())
def test_an_untouched_export_of_datetimes_at_the_ends_changes_nothing(
    moments: list[datetime], locale: str, xlsx: bool
) -> None:
    ctx = account(locale=locale)
    # Stored as the contacts service canonicalises a custom date-time.
    records = [
        contact(1001 + n, custom_fields={"ultimo_contato": moment.isoformat()}) for n, moment in enumerate(moments)
    ]
    by_key = {spec.key: spec for spec in available_fields(ctx)}
    columns = [ExportColumn(field=by_key[key], header=key) for key in KEYS]
    if xlsx:
        reader = CellReader(columns, ctx)
        rows = [RawRow(n, tuple(reader.row(record))) for n, record in enumerate(records, start=2)]
    else:
        shown = text_cells(columns, ctx, locale)
        rows = [RawRow(n, tuple(cell or "" for cell in shown(record))) for n, record in enumerate(records, start=2)]
    setup = setup_for(ctx, export_headers(ctx, KEYS, locale), with_letters=xlsx)
    verdicts, summary = validate(setup, rows, records)
    assert [item.code for verdict in verdicts for item in verdict.feedback] == []
    assert (summary.counts.errors, summary.counts.unchanged) == (0, len(records))


@pytest.mark.parametrize(
    ("stored", "cell", "parsed"),
    [
        # Written as stored: the local time would be 31/12/0000.
        ("0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00"),
        ("0001-01-01T12:00:00+00:00", "01/01/0001 08:53:32", "0001-01-01T08:53:32-03:06:28"),
        ("9999-12-31T23:59:59-01:00", "31/12/9999 21:59:59", "9999-12-31T21:59:59-03:00"),
        # Written as stored: the local time would be 01/01/10000.
        ("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-05:00"),
    ],
)
def test_the_cells_postgresql_writes_read_back(stored: str, cell: str, parsed: str) -> None:
    """The same cells as the CSV export's SQL (tests/integration/contacts/test_csv_rendition.py)."""
    zone = ZoneInfo(TZ)
    exported = custom_datetime(stored, zone)
    assert exported == (cell if cell == stored else datetime.strptime(cell, "%d/%m/%Y %H:%M:%S"))
    spec = AccountFields.from_account(account()).by_key["ultimo_contato"]
    assert CellParser(account(), "pt-BR").parse(cell, spec) == parsed
    # The quick check says "unchanged" for a local time; a stored text goes to the full judgement.
    assert cell_check(FieldType.DATETIME, "pt-BR", TZ)(cell, stored) is (cell != stored)


def test_text_the_fuzzer_found_reads_as_a_date_time_at_its_offset() -> None:
    spec = AccountFields.from_account(account()).by_key["ultimo_contato"]
    parser = CellParser(account(), "pt-BR")
    assert parser.parse("0001-01-01 01-01", spec) == "0001-01-01T01:00:00-01:00"
    assert parser.parse("31/12/9999 23:59:59", spec) == "9999-12-31T23:59:59-03:00"
