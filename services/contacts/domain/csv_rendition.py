"""An export's CSV rows rendered by PostgreSQL: a column plan in, one SELECT out.

The export service decides what its CSV holds (columns, locale, time zone, owner and
stage labels: shared.contacts_api.SelectionCsvRequest); this module compiles that plan
into a statement with one output column a cell, one row a contact in id order, for
`COPY ... TO STDOUT (FORMAT csv)`. COPY quotes a cell exactly when Python's csv
QUOTE_MINIMAL does (it holds the delimiter, `"`, CR or LF; `"` doubled), so the SQL
only formats cells; the export turns COPY's LF row ends into CRLF.

Every cell is written exactly as services/export/domain/csv_writer.py writes it (that
writer is the reference; tests/integration/contacts/test_csv_rendition.py compares the
two byte for byte on generated contacts, through the contacts service's write path):

- text (names, joined lists, labels, custom text) gets escape_formula's leading quote
  (shared/cells.py); an empty text is NULL, which COPY writes as an empty cell;
- numbers, decimals, dates, datetimes and booleans are formatted for the locale and are
  never escaped (a negative number stays a number);
- a custom value that is not in its field's canonical form (the write path refuses
  such values, custom_field_rules.py) is written as its stored text, escaped like any
  text: never dropped. There the Python writer differs: it parses some texts more
  leniently (decimal "007" as 7, date "20230115" as 15/01/2023, a naive datetime as
  UTC), reads JSON numbers through binary floating point (1.50 as 1.5), writes
  non-string multi-select items as Python does (True, None), and fails the whole export
  on a datetime whose local time falls outside years 1 to 9999.

Pure: it returns SQL text and parameters; the adapter runs them (inside COPY, which
takes no bind parameters: asyncpg inlines them as quoted literals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.contacts.domain.contact_filter import WhereClause
from services.contacts.domain.custom_field_rules import CustomFieldDefinition
from shared.cells import FORMULA_TRIGGERS, format_boolean
from shared.contacts_api import CellRendition, CsvColumn, SelectionCsvRequest
from shared.events import Locale
from shared.fields import MULTI_VALUE_SEPARATOR, STANDARD_FIELDS_BY_KEY, FieldType

# The formula triggers as character codes, for `ascii()` (the first character's code).
_TRIGGER_CODES = sorted(map(ord, FORMULA_TRIGGERS))
_QUOTE_CODE = ord("'")
_BELOW_LETTERS = ord("A") - 1
assert max(*_TRIGGER_CODES, _QUOTE_CODE) <= _BELOW_LETTERS
_TEXT_TYPES = frozenset(
    {
        FieldType.TEXT,
        FieldType.LONG_TEXT,
        FieldType.SINGLE_SELECT,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
    }
)
# Canonical stored forms (services/contacts/domain/custom_field_rules.py): only values
# that have them are formatted, the rest are written as their stored text.
_DECIMAL = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
# A JSON array of strings none of which needs a JSON escape, as jsonb writes it:
# `["a", "b"]`. Its options are then the text between the quotes (`_custom_options`
# recognises it without this regex, which the unit tests hold it to).
_PLAIN_STRING_ARRAY = r'^\["[^"\\]*"(, "[^"\\]*")*\]$'
assert '"' not in MULTI_VALUE_SEPARATOR


# How timestamps are written: PostgreSQL's own output in these styles is the Python
# writer's layout, `dd/mm/yyyy HH:MM:SS` (pt-BR) or `yyyy-mm-dd HH:MM:SS` (en), years
# of four digits. The statement runs with DateStyle and TimeZone set (`settings`).
DATE_STYLES = {Locale.PT_BR: "SQL, DMY", Locale.EN: "ISO, YMD"}
_SKIPPED_ROWS = "{skipped_rows}"
_ID_RANGE = "{id_range}"


@dataclass(frozen=True, slots=True)
class CsvRowsQuery:
    """A SELECT of one column a CSV cell (NULL for an empty cell), one row a contact in
    id order, to run as `COPY (...) TO STDOUT (FORMAT csv, DELIMITER <delimiter>)` in a
    transaction with `settings` (SET LOCAL); `params[i]` is `$i+1`.

    `sql` leaves it to PostgreSQL's date and timestamp input to reject a stored date or
    datetime that has the canonical shape but not a valid value (February 30, 25:00): the
    statement then fails with a data exception (SQLSTATE class 22). `checked_sql(n)`
    checks every value before it casts it (it never fails on stored data, and costs ~1 µs
    a row more with a date and a datetime field) and skips the first `n` rows: the rows
    `sql` sent before it failed, read again in the same transaction's snapshot.

    `within(after, up_to)` is the same query for the contacts with `after < id <= up_to`
    only, and `range_end_sql(n, after)` finds the id that ends the part of `n` contacts
    after `after`: parts that several connections sharing one snapshot render at once."""

    _sql: str
    params: tuple[Any, ...]
    delimiter: str
    settings: dict[str, str]
    _checked_sql: str
    _where_sql: str
    where_param_count: int
    after_id: int | None = None
    up_to_id: int | None = None
    # Whether parts of the selection cost in proportion to their size: true of a whole
    # account (less exclusions), whose parts walk the primary key. A filter's parts
    # would each redo its bitmap, and an id list's each probe every id.
    splits_well: bool = False

    @property
    def sql(self) -> str:
        return self._sql.replace(_ID_RANGE, self._id_range())

    @property
    def casts_may_fail(self) -> bool:
        return self._sql != self._checked_sql.replace(_SKIPPED_ROWS, "0")

    def checked_sql(self, skip_rows: int) -> str:
        return self._checked_sql.replace(_SKIPPED_ROWS, str(skip_rows)).replace(_ID_RANGE, self._id_range())

    def within(self, after: int | None, up_to: int | None) -> CsvRowsQuery:
        return replace(self, after_id=after, up_to_id=up_to)

    def range_end_sql(self, rows_per_range: int, after: int | None) -> str:
        """A SELECT of the id of the `rows_per_range`-th selected contact after id
        `after` (from the first when None), no row when fewer are left; its parameters
        are `params[:where_param_count]`."""
        step = int(rows_per_range)
        if step < 1:
            raise ValueError("rows_per_range must be positive")
        start = "" if after is None else f" AND id > {int(after)}"
        return f"SELECT id FROM contacts WHERE {self._where_sql}{start} ORDER BY id OFFSET {step - 1} LIMIT 1"

    def _id_range(self) -> str:
        # Integers only (checked by int()), so the bounds can be inlined: COPY takes no
        # bind parameters.
        after = "" if self.after_id is None else f" AND id > {int(self.after_id)}"
        up_to = "" if self.up_to_id is None else f" AND id <= {int(self.up_to_id)}"
        return after + up_to


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """Why the plan cannot be rendered; `loc` is where in the request, as FastAPI says it."""

    loc: tuple[str | int, ...]
    message: str


class CsvPlanError(ValueError):
    """The plan names fields the account does not have (or with another type), or a time
    zone that does not exist."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.message}" for p in problems))
        self.problems = tuple(problems)


def csv_rows_query(
    plan: SelectionCsvRequest,
    where: WhereClause,
    custom_fields: Mapping[str, CustomFieldDefinition],
) -> CsvRowsQuery:
    """The statement that renders the plan's columns for every contact `where` selects
    (its `$n` stay theirs; owner labels and stage names follow as parameters). Raises
    CsvPlanError naming every column the account cannot show.

    Two levels: the inner SELECT reads each column's value once (a jsonb key lookup, a
    label, a joined list), the outer one formats them. Without the OFFSET 0 fence the
    planner folds the inner expressions into the outer ones, and a cell that reads its
    value two to four times (its first character, then the value) looks it up as often:
    measured, a quarter more CPU for the bench account's 24 columns. A middle level,
    when a plan needs one, computes what several cells share or a cell uses twice
    (`_Rendition.derived`); it costs nothing measurable."""
    check_plan(plan, custom_fields)
    statements = []
    for checked in (False, True):
        rendition = _Rendition(plan, list(where.params), checked)
        cells = rendition.cells()
        source = rendition.source(
            f"FROM contacts WHERE {where.sql}{_ID_RANGE} ORDER BY id OFFSET {_SKIPPED_ROWS if checked else 0}",
            ordered=True,
        )
        statements.append(f"SELECT {', '.join(cells)} FROM ({source}) AS contact ORDER BY contact.id")
    settings = {"DateStyle": DATE_STYLES[plan.locale], "TimeZone": plan.timezone}
    return CsvRowsQuery(
        statements[0],
        tuple(rendition.params),
        plan.delimiter,
        settings,
        statements[1],
        where.sql,
        len(where.params),
        splits_well=plan.selection.all is not None,
    )


@dataclass(frozen=True, slots=True)
class ShownCellsQuery:
    """A SELECT of one row and column: the JSON object `{"<id>": [cell, …]}` of the
    contacts asked for, each cell as its text (null when empty), to run in a
    transaction with `settings` (SET LOCAL); `params[i]` is `$i+1`."""

    sql: str
    params: tuple[Any, ...]
    settings: dict[str, str]


def shown_cells_query(
    rendition: CellRendition,
    account_id: int,
    ids: Sequence[int],
    custom_fields: Mapping[str, CustomFieldDefinition],
) -> ShownCellsQuery:
    """The cells of the account's contacts among `ids` as a CSV by `rendition` shows
    them once read back: as `csv_rows_query` renders them, without the formula escaping
    (a CSV reader undoes it). For the importer's quick check of untouched rows; always
    the checked statement (a lookup is a thousand contacts, and must never fail on a
    stored value). Raises CsvPlanError as `csv_rows_query` does."""
    check_plan(rendition, custom_fields)
    cells = _Rendition(rendition, [account_id, list(ids)], checked=True, escape_formulas=False)
    texts = [f"({cell})::text" for cell in cells.cells()]
    source = cells.source("FROM contacts WHERE account_id = $1 AND id = ANY($2::bigint[]) OFFSET 0", ordered=False)
    sql = (
        f"SELECT coalesce(json_object_agg(contact.id, json_build_array({', '.join(texts)})), '{{}}')::text "
        f"FROM ({source}) AS contact"
    )
    settings = {"DateStyle": DATE_STYLES[rendition.locale], "TimeZone": rendition.timezone}
    return ShownCellsQuery(sql, tuple(cells.params), settings)


def check_plan(plan: CellRendition, custom_fields: Mapping[str, CustomFieldDefinition]) -> None:
    problems: list[PlanProblem] = []
    for index, column in enumerate(plan.columns):
        message = _column_problem(column, custom_fields)
        if message is not None:
            problems.append(PlanProblem(("body", "columns", index, "key"), message))
    try:
        ZoneInfo(plan.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(PlanProblem(("body", "timezone"), f"unknown time zone {plan.timezone!r}"))
    if problems:
        raise CsvPlanError(problems)


def _column_problem(column: CsvColumn, custom_fields: Mapping[str, CustomFieldDefinition]) -> str | None:
    if column.custom:
        definition = custom_fields.get(column.key)
        if definition is None:
            return f"unknown field {column.key!r}"
        expected = definition.type
    else:
        standard = STANDARD_FIELDS_BY_KEY.get(column.key)
        if standard is None:
            return f"unknown field {column.key!r}"
        expected = standard.type
    if column.type != expected:
        return f"field {column.key!r} is of type {expected.value}, not {column.type.value}"
    return None


class _Rendition:
    """The cells of one plan: `values` collects the inner SELECT's expressions by name,
    `derived` the middle level's (over the values), `cells` returns the outer
    expressions that format them (NULL for an empty cell). `checked` checks dates and
    datetimes before casting them (CsvRowsQuery). Owner labels and stage names become
    parameters only when a column needs them (asyncpg prepares the statement to learn
    its parameters' types: each `$n` must be used)."""

    def __init__(self, plan: CellRendition, params: list[Any], checked: bool, escape_formulas: bool = True) -> None:
        self.checked = checked
        self.escape_formulas = escape_formulas
        self.locale = plan.locale
        self.params = params
        self.values: dict[str, str] = {}
        self.derived: dict[str, str] = {}
        self._plan = plan
        self._digit_pair_texts = [
            self._name(index)
            for index, column in enumerate(plan.columns)
            if column.custom and column.type in (FieldType.DATE, FieldType.DATETIME)
        ]

    def cells(self) -> list[str]:
        return [self.cell(column, self._name(index)) for index, column in enumerate(self._plan.columns)]

    def cell(self, column: CsvColumn, name: str) -> str:
        if column.custom:
            return self._custom_cell(column.key, column.type, name)
        return self._standard_cell(column.key, name)

    def source(self, from_where: str, ordered: bool) -> str:
        """The SELECT of the values (`SELECT id, <values> <from_where>`), with the
        derived values over it when there are any; in id order when `ordered`."""
        values = "".join(f", {expression} AS {name}" for name, expression in self.values.items())
        inner = f"SELECT id{values} {from_where}"
        if not self.derived:
            return inner
        derived = "".join(f", {expression} AS {name}" for name, expression in self.derived.items())
        order = " ORDER BY value.id" if ordered else ""
        return f"SELECT value.*{derived} FROM ({inner}) AS value{order} OFFSET 0"

    @staticmethod
    def _name(index: int) -> str:
        return f"v{index}"

    def _value(self, name: str, expression: str) -> str:
        self.values[name] = expression
        return name

    def _derive(self, name: str, expression: str) -> str:
        self.derived[name] = expression
        return name

    def digit_pairs(self, text: str) -> str:
        """Whether `text` is in `_DIGIT_PAIRS`. A regex costs ~0.3 µs a call, most of it
        the call: with two custom dates or datetimes or more, one call per row checks
        them all (`_all_digit_pairs`), and a cell calls its own only when that fails."""
        own = f"{text} ~ {_literal(_DIGIT_PAIRS)}"
        if len(self._digit_pair_texts) < 2 or text not in self._digit_pair_texts:
            return own
        return f"({self._derive('digit_pairs', _all_digit_pairs(self._digit_pair_texts))} OR {own})"

    def _param(self, value: Any, sql_type: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{sql_type}"

    @cached_property
    def _owner_labels(self) -> str:
        return self._param({str(owner_id): label for owner_id, label in self._plan.owner_labels.items()}, "jsonb")

    @cached_property
    def _stage_names(self) -> str:
        return self._param(dict(self._plan.stage_names), "jsonb")

    def _standard_cell(self, key: str, name: str) -> str:
        if key == "id":
            return "id::text"
        if key in ("name", "company", "job_title"):
            return self.text(self._value(name, key))
        if key in ("emails", "phones", "tags"):
            return self.text(self._value(name, f"array_to_string({key}, {_literal(MULTI_VALUE_SEPARATOR)})"))
        if key == "lifecycle_stage":
            # An unknown key is shown as it is: an export never drops a stored value.
            stage = f"coalesce({self._stage_names} ->> lifecycle_stage, lifecycle_stage)"
            return self.text(self._value(name, f"CASE WHEN lifecycle_stage <> '' THEN {stage} END"))
        if key == "owner":
            return self.text(self._value(name, f"coalesce({self._owner_labels} ->> owner_id::text, owner_id::text)"))
        if key == "legal_entity":
            value = self._value(name, key)
            return f"CASE {value} WHEN true THEN {self._yes} WHEN false THEN {self._no} END"
        if key in ("created_at", "updated_at"):
            return self.local_datetime(self._value(name, key))
        raise ValueError(f"no rendition for standard field {key!r}")

    def _custom_cell(self, key: str, field_type: FieldType, name: str) -> str:
        # A string unquoted, any other JSON value as its text, NULL when absent or null.
        text = self._value(name, f"custom_fields ->> {_literal(key)}")
        if field_type in _TEXT_TYPES:
            return self.text(text)
        if field_type is FieldType.NUMBER:
            # An integer is a number (1.0 too, as Python reads it); anything else is
            # text, a fraction as it was stored. Digits first and no point: the stored
            # text whatever the JSON type (no text escape starts with a digit), so the
            # type is looked up (a second key lookup) only for the other values.
            json_type = f"jsonb_typeof({self._value('custom_fields', 'custom_fields')} -> {_literal(key)})"
            return (
                f"CASE WHEN {text} >= '0' COLLATE \"C\" AND {text} < ':' COLLATE \"C\" AND strpos({text}, '.') = 0 "
                f"THEN {text} "
                f"WHEN {json_type} = 'number' AND strpos({text}, '.') = 0 THEN {text} "
                f"WHEN {json_type} = 'number' AND {text}::numeric = trunc({text}::numeric) "
                f"THEN trunc({text}::numeric)::text "
                f"ELSE {self.text(text)} END"
            )
        if field_type is FieldType.DECIMAL:
            formatted = text if self.locale is Locale.EN else f"replace({text}, '.', ',')"
            return f"CASE WHEN {text} ~ {_literal(_DECIMAL)} THEN {formatted} ELSE {self.text(text)} END"
        if field_type is FieldType.DATE:
            digits = self.digit_pairs(text)
            if self.checked:
                return f"CASE WHEN {_is_iso_date(text, digits)} THEN {self.date_text(text)} ELSE {self.text(text)} END"
            # The cast rejects what has the shape without being a date; DateStyle writes it.
            return f"CASE WHEN {_has_iso_date_shape(text, digits)} THEN {text}::date::text ELSE {self.text(text)} END"
        if field_type is FieldType.DATETIME:
            return self._custom_datetime(text)
        if field_type is FieldType.BOOLEAN:
            json_type = self._value(f"{name}_type", f"jsonb_typeof(custom_fields -> {_literal(key)})")
            return (
                f"CASE WHEN {json_type} = 'boolean' THEN CASE {text} WHEN 'true' THEN {self._yes} ELSE {self._no} END "
                f"ELSE {self.text(text)} END"
            )
        if field_type is FieldType.MULTI_SELECT:
            return self._custom_options(key, text, name)
        raise ValueError(f"no rendition for custom field type {field_type!r}")

    def _custom_options(self, key: str, text: str, name: str) -> str:
        array = self._value(f"{name}_json", f"custom_fields -> {_literal(key)}")
        separator = _literal(MULTI_VALUE_SEPARATOR)
        # An array's text `["…"]` without a backslash (no item needs a JSON escape, so
        # every `"` delimits a string), with its `", "` replaced, on the middle level (the
        # cell reads it twice or more). It has no `"` left exactly when the array is of
        # plain strings (`_PLAIN_STRING_ARRAY`), and is then the options joined: two
        # strpos and a LIKE instead of a regex, ~0.15 µs a cell less.
        options = self._derive(
            f"{name}_options",
            f"CASE WHEN jsonb_typeof({array}) = 'array' AND strpos({text}, '\\') = 0 AND {text} LIKE '[\"%\"]' "
            f"THEN replace(substr({text}, 3, length({text}) - 4), '\", \"', {separator}) END",
        )
        # Arrays that need JSON unescaping (and non-string items, written as their JSON
        # text) are rare: a subquery for those.
        items = (
            f"(SELECT string_agg(coalesce(item, 'null'), {separator} ORDER BY position) "
            f"FROM jsonb_array_elements_text({array}) WITH ORDINALITY AS items(item, position))"
        )
        return (
            f"CASE WHEN strpos({options}, '\"') = 0 THEN {self.text(options)} "
            f"WHEN jsonb_typeof({array}) = 'array' THEN {self.text(items)} "
            f"ELSE {self.text(text)} END"
        )

    def _custom_datetime(self, text: str) -> str:
        # Python's isoformat writes offsets with seconds and microseconds when they have
        # them, and offsets up to ±23:59:59: PostgreSQL's timestamptz input takes neither
        # fractions nor more than ±15:59:59, so those offsets are subtracted as intervals.
        def instant_with_offset_at(start: int) -> str:
            return (
                f"CASE WHEN length({text}) = {start + 5} AND substr({text}, {start + 1}, 2) < '16' COLLATE \"C\" "
                f"THEN {text}::timestamptz "
                f"ELSE (substr({text}, 1, {start - 1})::timestamp - substr({text}, {start})::interval) "
                "AT TIME ZONE 'UTC' END"
            )

        with_fraction = f"substr({text}, 20, 1) = '.'"
        instant = f"(CASE WHEN {with_fraction} THEN {instant_with_offset_at(27)} ELSE {instant_with_offset_at(20)} END)"
        # Local years stay within 1..9999 as in Python (only stored years 1 and 9999
        # can leave them); outside, the stored text is written.
        local_year_fits = (
            f"(substr({text}, 1, 4) BETWEEN '0002' AND '9998' COLLATE \"C\" "
            f"OR extract(year FROM {instant}::timestamp) BETWEEN 1 AND 9999)"
        )
        digits = self.digit_pairs(text)
        shape = _is_iso_datetime(text, digits) if self.checked else _has_iso_datetime_shape(text, digits)
        canonical = f"{shape} AND {local_year_fits}"
        local = f"{self.local_datetime(instant)}::text"
        general = f"CASE WHEN {canonical} THEN {local} ELSE {self.text(text)} END"
        # Most stored datetimes are to the second with an offset of hours 00 to 09: then
        # no field needs more than PostgreSQL's input checks (in `sql`), the instant is a
        # plain cast and has no fraction to truncate. Every other text takes `general`.
        fast = _is_common_iso_datetime(text, digits, self.checked)
        return f"CASE WHEN {fast} THEN {text}::timestamptz::timestamp::text ELSE {general} END"

    def text(self, value: str) -> str:
        """A nullable text expression as a cell: escape_formula's rule (a leading quote
        before a trigger, or before a quote followed by a trigger or a quote). Empty
        text is NULL: COPY's CSV format writes NULL as an empty cell, and an empty
        string as `""`."""
        if not self.escape_formulas:
            return f"NULLIF({value}, '')"
        codes = ", ".join(map(str, _TRIGGER_CODES))
        # Most text starts with a letter, and every trigger and the quote are below "A":
        # one call decides most cells; an absent value is decided next (else it goes
        # through every test). ascii('') is 0 (text never holds NUL).
        return (
            f"CASE WHEN ascii({value}) > {_BELOW_LETTERS} THEN {value} WHEN {value} IS NULL THEN NULL "
            f"WHEN ascii({value}) IN ({codes}) THEN '''' || {value} "
            f"WHEN ascii({value}) = {_QUOTE_CODE} AND ascii(substr({value}, 2)) IN ({codes}, {_QUOTE_CODE}) "
            f"THEN '''' || {value} "
            f"WHEN ascii({value}) = 0 THEN NULL ELSE {value} END"
        )

    def local_datetime(self, instant: str) -> str:
        """A timestamptz as the account's local time to the second (truncated, as the
        Python writer does), a timestamp that the session's DateStyle writes in the
        locale's layout (`DATE_STYLES`): cheaper than to_char, ~0.2 µs a cell. The
        session's TimeZone is the account's: `AT TIME ZONE 'name'` would look the zone up
        by its name at every cell (measured: 5% of a rendition's time). Truncated once
        local (zone offsets are whole seconds): one conversion through the zone's rules,
        where truncating the timestamptz makes two."""
        return f"date_trunc('second', {instant}::timestamp)"

    def date_text(self, iso_date: str) -> str:
        """A canonical `YYYY-MM-DD` in the locale's layout, by moving its digits."""
        if self.locale is Locale.EN:
            return iso_date
        return f"substr({iso_date}, 9, 2) || '/' || substr({iso_date}, 6, 2) || '/' || substr({iso_date}, 1, 4)"

    @property
    def _yes(self) -> str:
        return _literal(format_boolean(True, self.locale.value))

    @property
    def _no(self) -> str:
        return _literal(format_boolean(False, self.locale.value))


# Canonical dates and datetimes are recognised without a regular expression of their
# own: PostgreSQL builds a regex's automaton anew at each call, and one for an ISO
# datetime with bounded fields cost ~2.3 µs a cell (measured), a fifth of a row's
# budget. A LIKE pattern puts the separators in their places, `_DIGIT_PAIRS` (an
# automaton of a few states) says every other character is a digit, and text comparisons
# bound the fields. Between two separators in their places digits come in runs of even
# length; a separator anywhere else would start a group of three characters (it and the
# two digits the pattern wants after it) inside such a run, which cannot fit.
_DIGIT_PAIRS = r"^[0-9][0-9]([0-9][0-9]|[-T:.+][0-9][0-9])*$"
_DATE_SHAPE = "____-__-__"
_DATETIME_SHAPES = [
    f"{_DATE_SHAPE}T__:__:__{fraction}_{offset}"
    for fraction in ("", ".______")
    for offset in ("__:__", "__:__:__", "__:__:__.______")
]


def _all_digit_pairs(texts: Sequence[str]) -> str:
    """Whether every text of `texts` that is not NULL is in `_DIGIT_PAIRS`: a string of
    them joined by "T" is in it exactly then. That "T" is no digit, so a match has a
    separator there: what comes before it and what comes after it are matches."""
    joined = " || 'T' || ".join(f"coalesce({text}, '00')" for text in texts)
    return f"({joined}) ~ {_literal(_DIGIT_PAIRS)}"


def _has_iso_date_shape(text: str, digits: str) -> str:
    """Whether `text` is `YYYY-MM-DD` in digits (PostgreSQL's date input then takes it
    exactly when Python's date type does, and fails otherwise); `digits` says whether
    it is in `_DIGIT_PAIRS`."""
    return f"({text} LIKE '{_DATE_SHAPE}' AND {digits})"


def _is_iso_date(text: str, digits: str) -> str:
    """Whether `text` is `YYYY-MM-DD` and a date that Python's date type holds."""
    return f"({_has_iso_date_shape(text, digits)} AND {_is_calendar_date(text)})"


def _has_iso_datetime_shape(text: str, digits: str) -> str:
    """Whether `text` has the shape of a datetime as Python's isoformat writes an aware
    one (digits in place), without the fields PostgreSQL's input would take where
    Python's does not (hour 24, second 60, offsets of 24 hours or 60 seconds): what it
    takes then is what Python takes, and it fails on the rest (minute 60, February 30)."""
    shapes = _literal("{" + ",".join(_DATETIME_SHAPES) + "}")

    def offset_fits(start: int) -> str:
        return (
            f"substr({text}, {start}, 1) IN ('+', '-') AND substr({text}, {start + 1}, 2) < '24' COLLATE \"C\" "
            f"AND (length({text}) = {start + 5} OR substr({text}, {start + 7}, 2) < '60' COLLATE \"C\")"
        )

    return (
        f"({text} LIKE ANY ({shapes}::text[]) AND {digits} "
        f"AND substr({text}, 12, 2) < '24' COLLATE \"C\" AND substr({text}, 18, 2) < '60' COLLATE \"C\" "
        f"AND CASE WHEN substr({text}, 20, 1) = '.' THEN {offset_fits(27)} ELSE {offset_fits(20)} END)"
    )


def _is_iso_datetime(text: str, digits: str) -> str:
    """Whether `text` is a datetime as Python's isoformat writes an aware one: to the
    second or the microsecond, with an offset to the minute, second or microsecond."""
    shapes = _literal("{" + ",".join(_DATETIME_SHAPES) + "}")

    def offset_fits(start: int) -> str:
        return (
            f"substr({text}, {start}, 1) IN ('+', '-') AND substr({text}, {start + 1}, 2) < '24' COLLATE \"C\" "
            f"AND substr({text}, {start + 4}, 2) < '60' COLLATE \"C\" "
            f"AND (length({text}) = {start + 5} OR substr({text}, {start + 7}, 2) < '60' COLLATE \"C\")"
        )

    clock_fits = (
        f"substr({text}, 12, 2) < '24' COLLATE \"C\" AND substr({text}, 15, 2) < '60' COLLATE \"C\" "
        f"AND substr({text}, 18, 2) < '60' COLLATE \"C\""
    )
    return (
        f"({text} LIKE ANY ({shapes}::text[]) AND {digits} "
        f"AND {_is_calendar_date(text)} AND {clock_fits} "
        f"AND CASE WHEN substr({text}, 20, 1) = '.' THEN {offset_fits(27)} ELSE {offset_fits(20)} END)"
    )


def _is_common_iso_datetime(text: str, digits: str, checked: bool) -> str:
    """Whether `text` is `YYYY-MM-DDTHH:MM:SS±0H:MM` in digits, local years 2 to 9998
    whatever the offset: what `_custom_datetime` renders as a plain cast. `checked`
    checks every field (`_is_iso_datetime`); else, as `_has_iso_datetime_shape`, only
    those where PostgreSQL's input is more lenient than Python's (hour 24, second 60)."""
    shape = f"({text} LIKE '{_DATE_SHAPE}T__:__:__-0_:__' OR {text} LIKE '{_DATE_SHAPE}T__:__:__+0_:__')"
    fields = (
        f"{_is_calendar_date(text)} AND substr({text}, 12, 2) < '24' COLLATE \"C\" "
        f"AND substr({text}, 15, 2) < '60' COLLATE \"C\" AND substr({text}, 18, 2) < '60' COLLATE \"C\" "
        f"AND substr({text}, 24, 2) < '60' COLLATE \"C\""
        if checked
        else f"substr({text}, 12, 2) < '24' COLLATE \"C\" AND substr({text}, 18, 2) < '60' COLLATE \"C\""
    )
    # A text that starts with four digits and a dash is at least "0002" and below "9999"
    # exactly when its year is 2 to 9998.
    year = f"{text} >= '0002' COLLATE \"C\" AND {text} < '9999' COLLATE \"C\""
    return f"({shape} AND {digits} AND {fields} AND {year})"


def _is_calendar_date(text: str) -> str:
    """Whether the first ten characters, digits and dashes in `YYYY-MM-DD` places, are a
    date that Python's date type holds: years 1 to 9999, months 1 to 12, and the days
    that month has."""
    year = f"substr({text}, 1, 4)::int"
    day = f"substr({text}, 9, 2)"
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    month_has_day = (
        f"CASE substr({text}, 6, 2) WHEN '02' THEN {day} = '29' AND {leap} "
        f"WHEN '04' THEN {day} <> '31' WHEN '06' THEN {day} <> '31' "
        f"WHEN '09' THEN {day} <> '31' WHEN '11' THEN {day} <> '31' ELSE true END"
    )
    return (
        f"(substr({text}, 1, 4) <> '0000' AND substr({text}, 6, 2) BETWEEN '01' AND '12' COLLATE \"C\" "
        f"AND {day} BETWEEN '01' AND '31' COLLATE \"C\" AND ({day} < '29' COLLATE \"C\" OR {month_has_day}))"
    )


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1)."""
    if "\x00" in text:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


class CsvRowsSent:
    """Passes COPY CSV output on only up to the end of its last complete row, and counts
    the rows passed (to resume after them with `CsvRowsQuery.checked_sql`). A row ends
    with a LF outside quotes: every `"` COPY writes opens or closes a quoted cell or
    doubles a quote inside one, so the text between the n-th and the next is outside
    quotes when n is even, and what is held back always starts a row."""

    def __init__(self) -> None:
        self.rows = 0
        self._held = b""

    def complete_rows(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        end = position = 0
        for index, part in enumerate(data.split(b'"')):
            if index % 2 == 0 and (rows := part.count(b"\n")):
                self.rows += rows
                end = position + part.rfind(b"\n") + 1
            position += len(part) + 1
        self._held = data[end:]
        return data[:end]

    @property
    def held(self) -> bytes:
        """The start of a row whose end has not come."""
        return self._held
