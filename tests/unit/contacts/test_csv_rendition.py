"""The CSV rendition's compiler (plan → SQL text and parameters) and the splitter of COPY
CSV output into complete rows. What the SQL renders is proven against the Python writer
on the real PostgreSQL: tests/integration/contacts/test_csv_rendition.py."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.contacts.domain.contact_filter import selection_where
from services.contacts.domain.csv_rendition import (
    _DIGIT_PAIRS,
    _PLAIN_STRING_ARRAY,
    CsvPlanError,
    CsvRowsSent,
    csv_rows_query,
)
from services.contacts.domain.custom_field_rules import CustomFieldDefinition
from shared.contacts_api import CsvColumn, SelectionCsvRequest
from shared.fields import STANDARD_FIELDS, FieldType
from shared.selection import ContactFilter, Selection

FIELDS = {
    "cpf": CustomFieldDefinition("cpf", "CPF", FieldType.TEXT),
    "fundacao": CustomFieldDefinition("fundacao", "Fundação", FieldType.DATE),
    "visita": CustomFieldDefinition("visita", "Visita", FieldType.DATETIME),
    "segmento": CustomFieldDefinition("segmento", "Segmento", FieldType.SINGLE_SELECT, ("Varejo",)),
}


def plan(columns: list[CsvColumn], **overrides: object) -> SelectionCsvRequest:
    values: dict[str, object] = {
        "selection": Selection(filter=ContactFilter(custom={"segmento": "Varejo"})),
        "columns": columns,
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "delimiter": ";",
    }
    values.update(overrides)
    return SelectionCsvRequest.model_validate(values)


def standard(key: str) -> CsvColumn:
    spec = next(f for f in STANDARD_FIELDS if f.key == key)
    return CsvColumn(key=key, type=spec.type)


def custom(key: str) -> CsvColumn:
    return CsvColumn(key=key, type=FIELDS[key].type, custom=True)


def compile_plan(request: SelectionCsvRequest):  # type: ignore[no-untyped-def]
    where = selection_where(7, request.selection, FIELDS, "America/Sao_Paulo")
    return where, csv_rows_query(request, where, FIELDS)


def test_the_selection_keeps_its_parameters_and_labels_follow_only_when_used() -> None:
    request = plan(
        [standard("id"), standard("owner"), standard("lifecycle_stage"), custom("cpf")],
        owner_labels={1: "Ana", 2: "=Bruno"},
        stage_names={"lead": "Lead"},
    )
    where, query = compile_plan(request)
    assert query.params[: len(where.params)] == tuple(where.params)
    assert query.params[len(where.params) :] == ({"1": "Ana", "2": "=Bruno"}, {"lead": "Lead"})
    _, without_labels = compile_plan(plan([standard("id"), custom("cpf")], owner_labels={1: "Ana"}))
    assert len(without_labels.params) == len(where.params)


def test_every_parameter_is_used_and_no_value_is_in_the_text() -> None:
    request = plan(
        [standard("id"), standard("name"), standard("owner"), custom("segmento")],
        owner_labels={1: "Ana O'Neil"},
    )
    _, query = compile_plan(request)
    numbers = {int(n) for n in re.findall(r"\$(\d+)\b", query.sql)}
    assert numbers == set(range(1, len(query.params) + 1))
    assert "Varejo" not in query.sql and "O'Neil" not in query.sql


def test_rows_come_in_id_order_from_the_account_and_the_checked_twin_can_skip() -> None:
    _, query = compile_plan(plan([standard("id"), custom("fundacao")]))
    assert "WHERE account_id = $1" in query.sql
    assert query.sql.endswith("ORDER BY id OFFSET 0) AS contact ORDER BY contact.id")
    assert query.checked_sql(1234).endswith("ORDER BY id OFFSET 1234) AS contact ORDER BY contact.id")
    assert query.casts_may_fail
    _, text_only = compile_plan(plan([standard("id"), custom("cpf"), standard("created_at")]))
    assert not text_only.casts_may_fail and text_only.sql == text_only.checked_sql(0)


def test_settings_carry_the_locale_layout_and_the_zone() -> None:
    _, query = compile_plan(plan([standard("id")], locale="en", delimiter=",", timezone="Asia/Kolkata"))
    assert query.settings == {"DateStyle": "ISO, YMD", "TimeZone": "Asia/Kolkata"}
    assert query.delimiter == ","
    _, query = compile_plan(plan([standard("id")]))
    assert query.settings["DateStyle"] == "SQL, DMY"


def test_yes_and_no_follow_the_locale() -> None:
    _, pt_br = compile_plan(plan([standard("id"), standard("legal_entity")]))
    _, en = compile_plan(plan([standard("id"), standard("legal_entity")], locale="en", delimiter=","))
    assert "'SIM'" in pt_br.sql and "'NÃO'" in pt_br.sql
    assert "'Yes'" in en.sql and "'No'" in en.sql


def test_columns_the_account_lacks_and_unknown_zones_are_named() -> None:
    request = plan(
        [
            standard("id"),
            CsvColumn(key="nope", type=FieldType.TEXT, custom=True),
            CsvColumn(key="cpf", type=FieldType.NUMBER, custom=True),
            CsvColumn(key="name", type=FieldType.DATE),
            CsvColumn(key="lucky", type=FieldType.TEXT),
        ],
        timezone="Mars/Olympus",
    )
    with pytest.raises(CsvPlanError) as refused:
        compile_plan(request)
    assert [(p.loc, p.message) for p in refused.value.problems] == [
        (("body", "columns", 1, "key"), "unknown field 'nope'"),
        (("body", "columns", 2, "key"), "field 'cpf' is of type text, not number"),
        (("body", "columns", 3, "key"), "field 'name' is of type text, not date"),
        (("body", "columns", 4, "key"), "unknown field 'lucky'"),
        (
            (
                "body",
                "timezone",
            ),
            "unknown time zone 'Mars/Olympus'",
        ),
    ]


def test_a_rows_dates_and_datetimes_share_one_digit_check_on_a_middle_level() -> None:
    _, query = compile_plan(plan([standard("id"), custom("fundacao"), custom("cpf"), custom("visita")]))
    assert query.sql.count(" AS digit_pairs") == 1
    assert "SELECT value.*, (coalesce(v1, '00') || 'T' || coalesce(v3, '00')) ~ " in query.sql
    assert query.sql.endswith(
        "ORDER BY id OFFSET 0) AS value ORDER BY value.id OFFSET 0) AS contact ORDER BY contact.id"
    )
    assert "ORDER BY id OFFSET 1234) AS value ORDER BY value.id OFFSET 0) AS contact" in query.checked_sql(1234)
    _, one_date = compile_plan(plan([standard("id"), custom("fundacao"), custom("cpf")]))
    assert "digit_pairs" not in one_date.sql and "value.*" not in one_date.sql


# The claims the SQL relies on, checked on Python's regular expressions (the pattern is
# plain enough to mean the same there): texts joined by "T" are digit pairs exactly when
# each is (NULL stands for "00"), and a text of four digits and a dash is at least
# "0002" and below "9999" exactly when those digits are a year from 2 to 9998.
_texts = st.text(alphabet=st.sampled_from(list("0123456789-T:.+ xé")), max_size=12)


@given(st.lists(st.none() | st.one_of(_texts, st.from_regex(_DIGIT_PAIRS)), min_size=2, max_size=5))
def test_joined_texts_are_digit_pairs_exactly_when_each_is(texts: list[str | None]) -> None:
    pattern = re.compile(_DIGIT_PAIRS.removeprefix("^").removesuffix("$"))
    joined = "T".join("00" if text is None else text for text in texts)
    assert bool(pattern.fullmatch(joined)) == all(pattern.fullmatch(t) for t in texts if t is not None)


@given(st.integers(0, 9999), _texts)
def test_a_year_from_2_to_9998_is_two_text_comparisons(year: int, rest: str) -> None:
    text = f"{year:04d}-{rest}"
    assert (text >= "0002" and text < "9999") == (2 <= year <= 9998)


_array_texts = st.one_of(
    st.lists(st.text(alphabet=st.sampled_from(list('ab ,"\\[]{}')), max_size=4), max_size=4).map(
        lambda items: "[" + ", ".join(f'"{item}"' for item in items) + "]"
    ),
    st.text(alphabet=st.sampled_from(list('[]", \\ab{}:1')), max_size=14),
)


@given(_array_texts)
def test_plain_string_arrays_are_known_without_the_regex(text: str) -> None:
    """What `_custom_options` checks instead of `_PLAIN_STRING_ARRAY`: no backslash, the
    `["…"]` of LIKE, and no `"` left once every `", "` is replaced (as PostgreSQL's
    replace does, leftmost first)."""
    like = len(text) >= 4 and text.startswith('["') and text.endswith('"]')
    options = text[2:-2].replace('", "', ", ")
    checked = "\\" not in text and like and '"' not in options
    assert checked == bool(re.fullmatch(_PLAIN_STRING_ARRAY.removeprefix("^").removesuffix("$"), text))


# --- CsvRowsSent: complete rows only, counted -------------------------------------------

cells = st.text(alphabet=st.sampled_from(list('ab;"\n\r, ')), max_size=8)
rows = st.lists(st.lists(cells, min_size=1, max_size=4), max_size=12)


def copy_row(row: list[str]) -> bytes:
    """A row as COPY (FORMAT csv, DELIMITER ';') writes it."""
    quoted = ['"' + c.replace('"', '""') + '"' if any(x in c for x in ';"\r\n') else c for c in row]
    return (";".join(quoted) + "\n").encode()


@given(rows, st.lists(st.integers(1, 50), max_size=20))
def test_only_complete_rows_pass_and_are_counted(table: list[list[str]], cuts: list[int]) -> None:
    encoded = [copy_row(row) for row in table]
    data = b"".join(encoded)
    sent = CsvRowsSent()
    passed = b""
    position = 0
    for size in [*cuts, len(data)]:
        chunk, position = data[position : position + size], position + size
        passed += sent.complete_rows(chunk)
        assert passed == b"".join(encoded[: sent.rows])
    assert passed == data and sent.held == b""
    assert sent.rows == len(table)


def test_a_row_cut_inside_quotes_is_held_back() -> None:
    sent = CsvRowsSent()
    assert sent.complete_rows(b'1;"a\nb') == b""
    assert sent.held == b'1;"a\nb'
    assert sent.complete_rows(b'";c\n2;d') == b'1;"a\nb";c\n'
    assert (sent.rows, sent.held) == (1, b"2;d")
