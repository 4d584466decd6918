"""COPY CSV rows (LF line ends) made into the export's records (CRLF), counted, whatever
the chunks; and the plan a CSV export sends the contacts service."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.export.domain.cell_values import owner_labels
from services.export.domain.columns import build_columns
from services.export.domain.csv_plan import csv_rows_plan
from services.export.domain.csv_records import CsvRecordEnds, IncompleteCsvRows
from shared.selection import Selection

from .factories import make_context

cells = st.text(alphabet=st.sampled_from(list("ab;,\"\n\r '=")), max_size=8)
# A row of one empty cell is the one Python writes as `""` (COPY writes an empty line);
# export rows start with the ID, never empty.
tables = st.lists(st.lists(cells, min_size=1, max_size=5).filter(lambda row: row != [""]), max_size=15)


def copy_csv(table: list[list[str]], delimiter: str = ";") -> bytes:
    """What COPY (FORMAT csv) writes: a cell holding the delimiter, a quote, CR or LF is
    quoted (quotes doubled), every row ends with LF."""
    special = delimiter + '"\r\n'
    return "".join(
        delimiter.join('"' + c.replace('"', '""') + '"' if any(x in c for x in special) else c for c in row) + "\n"
        for row in table
    ).encode()


def python_csv(table: list[list[str]], delimiter: str = ";") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode()


@given(tables, st.lists(st.integers(1, 40), max_size=25), st.sampled_from([";", ","]))
def test_records_equal_the_python_writers_whatever_the_chunks(
    table: list[list[str]], cuts: list[int], delimiter: str
) -> None:
    data = copy_csv(table, delimiter)
    records = CsvRecordEnds()
    out = b""
    position = 0
    for size in [*cuts, len(data)]:
        out += records.convert(data[position : position + size])
        position += size
    records.finish()
    assert out == python_csv(table, delimiter)
    assert records.rows == len(table)


def test_line_feeds_inside_quotes_stay() -> None:
    records = CsvRecordEnds()
    assert records.convert(b'1;"a\nb";c\n2;"\r\n"\n') == b'1;"a\nb";c\r\n2;"\r\n"\r\n'
    assert records.rows == 2


@pytest.mark.parametrize("chunks", [[b"1;a\n2;b"], [b'1;"a\n'], [b'1;"a', b'""\n']])
def test_rows_that_stop_mid_row_are_incomplete(chunks: list[bytes]) -> None:
    records = CsvRecordEnds()
    for chunk in chunks:
        records.convert(chunk)
    with pytest.raises(IncompleteCsvRows):
        records.finish()


def test_no_rows_is_complete() -> None:
    records = CsvRecordEnds()
    assert records.convert(b"") == b""
    records.finish()
    assert records.rows == 0


def test_the_plan_carries_what_the_python_writer_shows() -> None:
    context = make_context(timezone="Asia/Kolkata")
    columns = build_columns(context, "pt-BR", ["funcionarios", "owner", "lifecycle_stage"])
    plan = csv_rows_plan(Selection(ids=[3, 1]), columns, context, "pt-BR")
    assert [(c.key, c.type.value, c.custom) for c in plan.columns] == [
        ("id", "id", False),
        ("funcionarios", "number", True),
        ("owner", "owner", False),
        ("lifecycle_stage", "lifecycle_stage", False),
    ]
    assert (plan.locale.value, plan.delimiter, plan.timezone) == ("pt-BR", ";", "Asia/Kolkata")
    assert plan.owner_labels == owner_labels(context)
    assert plan.owner_labels[2] == "bruno@example.com.br", "names that fold alike are shown by email"
    assert plan.stage_names == {"lead": "Lead", "cliente": "Cliente"}
    assert plan.selection == Selection(ids=[3, 1])
    english = csv_rows_plan(Selection(all=True), build_columns(context, "en"), context, "en")
    assert (english.locale.value, english.delimiter) == ("en", ",")
