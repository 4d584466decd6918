"""One sheet row against the contact it names: its feedback and its planned change."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import itemgetter

from services.importer.domain.cell_parsing import LIST_TYPES, CellParser, is_blank
from services.importer.domain.feedback import FeedbackItem, feedback
from services.importer.domain.field_catalogue import AccountFields, current_value_reader
from services.importer.domain.number_parsing import MAX_ID
from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.sheet import CellValue, RawRow
from services.importer.domain.spreadsheet_mangling import looks_mangled
from services.importer.domain.unchanged_cells import MAX_REMEMBERED_PAIRS, CellCheck, MemoKey, cell_check, memo_key
from services.importer.domain.validation_setup import ConfirmedColumn, ValidationSetup
from services.importer.domain.value_comparison import local_second, values_equal
from shared.bounds import NUL
from shared.contacts_api import BulkApplyRow, ContactRecord, RowAction
from shared.fields import MULTI_VALUE_SEPARATOR, FieldType

_PLAIN_TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL})
_INTERNAL_PARAMS = ("candidate_ids",)


class RowOutcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # in conflict, and the skip-conflicts option is on
    ERROR = "error"


@dataclass(slots=True)
class RowVerdict:
    row_number: int
    outcome: RowOutcome
    contact_id: int | None  # the ID as read, when valid
    planned: BulkApplyRow | None  # what start will apply; None if nothing
    changed_fields: list[str] = field(default_factory=list)
    feedback: list[FeedbackItem] = field(default_factory=list)


# The ID cell as read before lookup: a valid id, None when blank, or the problem found.
# A bare value, not an object: one is read for every row.
ParsedId = int | ParseProblem | None


class RowJudge:
    def __init__(self, setup: ValidationSetup, fields: AccountFields, parser: CellParser) -> None:
        self.setup = setup
        self.options = setup.options
        self.parser = parser
        self.locale = setup.account.locale
        self.timezone = setup.account.timezone
        columns = setup.confirmed_columns(fields)
        self.id_column = next((c for c in columns if c.spec.key == "id"), None)
        self.updated_at_column = next((c for c in columns if c.spec.key == "updated_at"), None)
        self.written_columns = [c for c in columns if c.spec.writable]
        self.emails_column = next((c for c in columns if c.spec.key == "emails"), None)
        written_keys = {c.spec.key for c in self.written_columns}
        self._width = max((c.index + 1 for c in columns), default=0)
        plans = [_CellPlan.build(c, setup, self.timezone) for c in self.written_columns]
        # Unpacked once: attribute lookups per cell add up over twenty million cells.
        self._hot_plans = [
            (position, p, p.index, p.read_current, p.shows_current, p.blank_is_clean, p.memo_key)
            for position, p in enumerate(plans)
        ]
        # The whole-row check (`shows_contact`): the written cells in one C call, and the
        # cells whose blank must still be judged (it warns) in another.
        self._written_cells = _picker([c.index for c in self.written_columns])
        self._judged_when_blank = _picker([position for position, p in enumerate(plans) if not p.blank_is_clean])
        # Required fields a new contact lacks when their column is not imported at all.
        self.required_missing = [f for f in fields.fields if f.required and f.writable and f.key not in written_keys]

    def shows_contact(self, row: RawRow, shown: tuple[str | None, ...]) -> bool:
        """True when the row's written cells are exactly `shown` (see `judge`), none of
        them a blank that warns: the row is unchanged, with nothing to report. The full
        judgement would find the same (tests/unit/importer/validation/test_shown_cells.py),
        one comparison instead of a check per cell. (A `shown` of another width is
        another tuple: never equal.)"""
        cells = row.cells
        if len(cells) < self._width:
            cells = cells + (None,) * (self._width - len(cells))
        return self._written_cells(cells) == shown and None not in self._judged_when_blank(shown)

    def read_id(self, row: RawRow) -> ParsedId:
        if self.id_column is None:
            return None
        cell = _cell(row, self.id_column.index)
        if cell.__class__ is str and cell.isdigit() and cell.isascii():  # the usual case, as parse_id reads it
            value = int(cell)
            if 0 < value <= MAX_ID:
                return value
        return None if is_blank(cell) else self.parser.parse(cell, self.id_column.spec)

    def emails_to_check(self, row: RawRow, parsed_id: ParsedId) -> list[str]:
        """Emails of a row that may create a contact, for the possible-duplicate check."""
        if self.emails_column is None or isinstance(parsed_id, ParseProblem):
            return []
        cell = _cell(row, self.emails_column.index)
        if not isinstance(cell, str) or NUL in cell:
            # A cell with NUL is an error (nul_character) and creates nothing; its
            # emails must not reach the lookup, whose SQL cannot take NUL.
            return []
        return [e.strip().lower() for e in cell.replace(";", ",").split(",") if "@" in e]

    def judge(
        self,
        row: RawRow,
        parsed_id: ParsedId,
        contact: ContactRecord | None,
        email_owners: Mapping[str, list[int]],
        shown: tuple[str | None, ...] | None = None,
    ) -> RowVerdict:
        """`shown`: the contact's written cells as the export shows them in this sheet's
        locale (`ContactLookup.cells`), in `written_columns` order: the cells equal to
        theirs are not judged again (see `shows_contact` for whole rows)."""
        items: list[FeedbackItem] = []
        contact_id = parsed_id if isinstance(parsed_id, int) else None
        id_ok = self._judge_id(row, parsed_id, contact, items)
        values: dict[str, object] = {}
        changed: list[str] = []
        if contact is None:
            for column in self.written_columns:
                self._judge_cell(row, column, None, None, values, changed, items)
        else:
            self._judge_cells_of_contact(row, contact, values, changed, items, shown)
        if contact is None:
            for spec in self.required_missing:
                items.append(
                    self._item(
                        "required_field_empty",
                        row,
                        None,
                        spec.label(self.locale),
                        spec.key,
                        None,
                        {"variant": "create", "field": spec.label(self.locale)},
                    )
                )
            self._check_possible_duplicate(row, values, email_owners, items)
        has_errors = not id_ok or (bool(items) and any(i.severity == "error" for i in items))
        if has_errors:
            return RowVerdict(row.row_number, RowOutcome.ERROR, contact_id, None, [], items)
        if contact is None:
            planned = BulkApplyRow(row_number=row.row_number, action=RowAction.CREATE, values=values)
            return RowVerdict(row.row_number, RowOutcome.CREATE, contact_id, planned, changed, items)
        if not changed:
            return RowVerdict(row.row_number, RowOutcome.UNCHANGED, contact.id, None, [], items)
        expected, in_conflict = self._judge_conflict(row, contact, changed, items)
        if in_conflict and self.options.skip_conflicts:
            return RowVerdict(row.row_number, RowOutcome.SKIPPED, contact.id, None, [], items)
        planned = BulkApplyRow(
            row_number=row.row_number,
            action=RowAction.UPDATE,
            contact_id=contact.id,
            values=values,
            expected_updated_at=expected,
        )
        return RowVerdict(row.row_number, RowOutcome.UPDATE, contact.id, planned, changed, items)

    def _judge_id(
        self,
        row: RawRow,
        parsed_id: ParsedId,
        contact: ContactRecord | None,
        items: list[FeedbackItem],
    ) -> bool:
        column = self.id_column
        cell = _cell(row, column.index) if column else None
        if isinstance(parsed_id, ParseProblem):
            items.append(self._cell_item(parsed_id.code, row, column, cell, parsed_id.params))
            return False
        if contact is not None:
            return True
        variant = "blank" if parsed_id is None else "unknown"
        if self.options.create_unknown_ids:
            code = "new_contact_will_be_created"
        else:
            code = "id_blank" if parsed_id is None else "id_not_found"
        items.append(self._cell_item(code, row, column, cell, {"variant": variant, "id": parsed_id or ""}))
        return True

    def _judge_cells_of_contact(
        self,
        row: RawRow,
        contact: ContactRecord,
        values: dict[str, object],
        changed: list[str],
        items: list[FeedbackItem],
        shown: tuple[str | None, ...] | None = None,
    ) -> None:
        """The hot loop of a round trip: each cell's quick check first (the text the
        export shows for it, or unchanged_cells), the full judgement only for the cells
        they cannot vouch for."""
        cells = row.cells
        if len(cells) < self._width:
            cells = cells + (None,) * (self._width - len(cells))
        for position, plan, index, read_current, shows_current, blank_is_clean, key_of in self._hot_plans:
            cell = cells[index]
            if cell is not None and shown is not None and cell == shown[position]:
                continue
            current = read_current(contact)
            if cell is None:
                if blank_is_clean and (current is None or current == []):
                    continue
            elif shows_current(cell, current):
                continue
            key = key_of(cell, current) if key_of is not None else None
            if key is not None and key in plan.remembered:
                continue
            found, changes = len(items), len(changed)
            self._judge_cell(row, plan.column, contact, current, values, changed, items)
            learn = key is not None and len(items) == found and len(changed) == changes
            if learn and len(plan.remembered) < MAX_REMEMBERED_PAIRS:
                plan.remembered.add(key)

    def _judge_cell(
        self,
        row: RawRow,
        column: ConfirmedColumn,
        contact: ContactRecord | None,
        current: object,
        values: dict[str, object],
        changed: list[str],
        items: list[FeedbackItem],
    ) -> None:
        """One cell in full; `current` is the contact's stored value (None without one)."""
        spec = column.spec
        cell = _cell(row, column.index)
        if contact is not None and _cell_shows_current(spec.type, cell, current):
            return  # untouched: the fast path of a round trip, and never a false error
        parsed = self.parser.parse(cell, spec)
        if isinstance(parsed, ParseProblem):
            candidates = self.parser.lookups.owner_candidates(parsed)
            if contact is None or current not in candidates:
                items.append(self._cell_item(parsed.code, row, column, cell, parsed.params))
                return
            parsed = current  # an ambiguous owner name that the contact already has
        if is_blank(cell) and self._judge_empty(row, column, contact, current, items):
            return
        if contact is None:
            if not is_blank(cell):
                values[spec.key] = parsed
                changed.append(spec.key)
        elif not values_equal(spec.type, parsed, current, self.timezone):
            if spec.type in _TEXT_TYPES and looks_mangled(current, cell):
                params = {"value": _text_of(cell), "stored": current}
                items.append(self._cell_item("value_mangled", row, column, cell, params))
                return
            values[spec.key] = parsed
            changed.append(spec.key)

    def _judge_empty(
        self,
        row: RawRow,
        column: ConfirmedColumn,
        contact: ContactRecord | None,
        current: object,
        items: list[FeedbackItem],
    ) -> bool:
        """Feedback for an empty cell; True when the field is left as it is."""
        spec = column.spec
        label = spec.label(self.locale)
        has_value = contact is not None and not values_equal(spec.type, None, current, self.timezone)
        clears = has_value and not self.options.ignore_empty_cells
        if spec.required and (contact is None or clears):
            variant = "create" if contact is None else "update"
            items.append(
                self._cell_item("required_field_empty", row, column, None, {"variant": variant, "field": label})
            )
            return True
        if spec.recommended and self.options.warn_recommended_empty:
            variant = "clears" if clears else "kept" if has_value else "empty"
            items.append(
                self._cell_item(
                    "recommended_field_empty",
                    row,
                    column,
                    None,
                    {"variant": variant, "field": label},
                )
            )
        return self.options.ignore_empty_cells

    def _judge_conflict(
        self, row: RawRow, contact: ContactRecord, changed: Sequence[str], items: list[FeedbackItem]
    ) -> tuple[datetime | None, bool]:
        """The `expected_updated_at` to apply with, and whether the row is in conflict."""
        column = self.updated_at_column
        if column is None:
            return None, False
        cell = _cell(row, column.index)
        if is_blank(cell):
            return None, False
        exported = self.parser.parse_datetime(cell)
        exported_at = None if isinstance(exported, ParseProblem) else local_second(exported, self.timezone)
        changed_at = local_second(contact.updated_at, self.timezone)
        # None: a time the account's zone cannot show (years 1 and 9999), never exported.
        if isinstance(exported, ParseProblem) or exported_at is None or changed_at is None:
            items.append(self._cell_item("updated_at_unreadable", row, column, cell, {}))
            return None, False
        if changed_at <= exported_at:
            return exported, False
        labels = [s.spec.label(self.locale) for s in self.written_columns if s.spec.key in changed]
        variant = "skip" if self.options.skip_conflicts else "overwrite"
        params = {
            "variant": variant,
            "changed_at": changed_at.strftime("%d/%m/%Y %H:%M:%S"),
            "exported_at": exported_at.strftime("%d/%m/%Y %H:%M:%S"),
            "fields": labels,
        }
        items.append(self._cell_item("changed_since_export", row, column, cell, params))
        # The user saw the warning and chose to overwrite: guard only against later changes.
        return contact.updated_at, True

    def _check_possible_duplicate(
        self,
        row: RawRow,
        values: Mapping[str, object],
        email_owners: Mapping[str, list[int]],
        items: list[FeedbackItem],
    ) -> None:
        emails = values.get("emails")
        if not isinstance(emails, list):
            return
        for email in emails:
            owners = email_owners.get(str(email).lower())
            if owners:
                cell = _cell(row, self.emails_column.index) if self.emails_column else None
                items.append(
                    self._cell_item(
                        "possible_duplicate",
                        row,
                        self.emails_column,
                        cell,
                        {"email": email, "contact_ids": sorted(owners)},
                    )
                )
                return

    def _cell_item(
        self,
        code: str,
        row: RawRow,
        column: ConfirmedColumn | None,
        cell: CellValue,
        params: Mapping[str, object],
    ) -> FeedbackItem:
        header = column.header if column else None
        key = column.spec.key if column else None
        return self._item(code, row, column.column if column else None, header, key, cell, params)

    def _item(
        self,
        code: str,
        row: RawRow,
        letter: str | None,
        header: str | None,
        field_key: str | None,
        cell: CellValue,
        params: Mapping[str, object],
    ) -> FeedbackItem:
        shown = {k: v for k, v in params.items() if k not in _INTERNAL_PARAMS}
        return feedback(
            code,
            row.row_number,
            column=letter,
            header=header,
            field_key=field_key,
            cell=cell,
            params=shown,
        )


@dataclass(slots=True)
class _CellPlan:
    """One written column's hot-loop pieces, built once per run."""

    column: ConfirmedColumn
    index: int
    read_current: Callable[[ContactRecord], object]
    shows_current: CellCheck
    memo_key: MemoKey | None
    # An empty cell where the field is empty: nothing to report (no recommended-field
    # warning for this column) and nothing to change, whatever the options.
    blank_is_clean: bool
    remembered: set[Hashable] = field(default_factory=set)  # (cell, current) found unchanged

    @classmethod
    def build(cls, column: ConfirmedColumn, setup: ValidationSetup, timezone: str) -> _CellPlan:
        spec = column.spec
        return cls(
            column,
            column.index,
            current_value_reader(spec),
            cell_check(spec.type, setup.sheet_locale, timezone),
            memo_key(spec.type),
            blank_is_clean=not (spec.recommended and setup.options.warn_recommended_empty),
        )


def _picker(indexes: Sequence[int]) -> Callable[[Sequence[CellValue]], tuple[CellValue, ...]]:
    """The items at `indexes`, as a tuple, in one call."""
    if len(indexes) == 1:
        (index,) = indexes
        return lambda items: (items[index],)
    return itemgetter(*indexes) if indexes else lambda items: ()


def _cell(row: RawRow, index: int) -> CellValue:
    return row.cells[index] if index < len(row.cells) else None


def _cell_shows_current(field_type: FieldType, cell: CellValue, current: object) -> bool:
    """The cell is the text the export writes for the current value (strings and lists
    of strings only, where that text is plain)."""
    if not isinstance(cell, str) or current is None:
        return False
    if field_type in _PLAIN_TEXT_TYPES and isinstance(current, str):
        return values_equal(field_type, cell, current, "UTC")
    if field_type in LIST_TYPES and isinstance(current, list) and current:
        return cell.strip() == MULTI_VALUE_SEPARATOR.join(map(str, current))
    return False


_TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT})


def _text_of(cell: CellValue) -> str:
    return cell if isinstance(cell, str) else str(cell)
