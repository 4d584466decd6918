"""Validation of a whole sheet, in streaming batches, with the I/O left to the caller.

    validator = SheetValidator(setup)
    for rows in batches_of(reader, 1000):
        batch = validator.begin_batch(rows)            # batch.request: ids, emails of id-less rows
        lookup = contacts.lookup(batch.request)        # the service's I/O (ContactLookup)
        if more := validator.follow_up(batch, lookup): # emails of rows whose id is unknown
            lookup = merged(lookup, contacts.lookup(more))
        verdict = validator.judge_batch(batch, lookup) # feedback + planned changes per row
        store(verdict.feedback, verdict.planned)
    summary = validator.finish()                   # file-level feedback, final counts
    drop_planned(summary.revoked_rows)             # rows an ID repeated later made errors

Batches may be begun ahead (so that the next batch's lookup runs while this one is
judged), but are judged in the order they were begun. Rows whose cells are all empty are
passed over (spreadsheets keep such rows around).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.importer.domain.cell_parsing import CellParser, is_blank
from services.importer.domain.feedback import FeedbackItem, Severity, feedback
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.row_judgement import ParsedId, RowJudge, RowOutcome, RowVerdict
from services.importer.domain.row_ledger import LedgerEntry, RowLedger
from services.importer.domain.sheet import CellValue, RawRow
from services.importer.domain.validation_setup import ValidationSetup
from shared.contacts_api import (
    BulkApplyRow,
    CellRendition,
    ContactLookup,
    ContactLookupRequest,
    ContactRecord,
    CsvColumn,
)
from shared.events import Locale
from shared.fields import RECOMMENDED_FIELD_KEYS

MAX_LOOKUP_ITEMS = 10_000  # ContactLookupRequest's limit per list


@dataclass(slots=True)
class ValidationCounts:
    rows: int = 0
    rows_with_errors: int = 0
    errors: int = 0  # feedback items of severity error
    warnings: int = 0
    to_create: int = 0
    to_update: int = 0
    unchanged: int = 0
    skipped: int = 0  # in conflict with the skip-conflicts option on
    field_changes: dict[str, int] = field(default_factory=dict)  # key → rows that change it


@dataclass(slots=True)
class BatchVerdict:
    """A judged batch. Its unchanged rows (most rows of a round trip) have no feedback and
    no plan: they are kept as flags, and `rows` makes their verdicts only when asked (a
    verdict object per row cost 0.4 µs a row, the garbage collector's work included)."""

    judged: list[RowVerdict]  # the rows judged in full (all but the unchanged), in sheet order
    batch_rows: list[tuple[RawRow, ParsedId]]
    unchanged: list[bool]  # per row of `batch_rows`

    @property
    def rows(self) -> list[RowVerdict]:
        """Every row's verdict, in sheet order."""
        judged = iter(self.judged)
        return [
            RowVerdict(row.row_number, RowOutcome.UNCHANGED, parsed_id, None, [], []) if shows else next(judged)  # type: ignore[arg-type]
            for (row, parsed_id), shows in zip(self.batch_rows, self.unchanged, strict=True)
        ]

    @property
    def feedback(self) -> list[FeedbackItem]:
        return [item for row in self.judged for item in row.feedback]

    @property
    def planned(self) -> list[BulkApplyRow]:
        return [row.planned for row in self.judged if row.planned is not None]


@dataclass(slots=True)
class PendingBatch:
    """A batch whose IDs are read, waiting for its lookup to be judged."""

    number: int
    rows: list[tuple[RawRow, ParsedId]]
    request: ContactLookupRequest  # what the service must look up for it
    # Filled by `follow_up` when it compared every row with its contact's cells: per row
    # of `rows`, whether it shows them (it is unchanged: judging need not look again).
    unchanged: list[bool] | None = None


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    counts: ValidationCounts
    feedback: list[FeedbackItem]  # found only at the end: file-level, repeated IDs
    revoked_rows: list[int]  # planned in a batch, then found in error: not to be applied
    ready_to_start: bool


def _as_tuples(cells: dict[int, tuple[str | None, ...]]) -> dict[int, tuple[str | None, ...]]:
    if cells and next(iter(cells.values())).__class__ is not tuple:
        return {key: tuple(shown) for key, shown in cells.items()}  # a model built unvalidated
    return cells


def _is_blank_row(cells: Sequence[CellValue]) -> bool:
    # The first cell decides most rows without a generator (which cost as much as the
    # rest of reading an ID).
    if cells and not is_blank(cells[0]):
        return False
    return all(is_blank(cell) for cell in cells)


def merged(lookup: ContactLookup, follow_up: ContactLookup) -> ContactLookup:
    """A batch's lookup with the answer to its `follow_up` request added."""
    # Both answers are validated models: validating their parts again (a tuple of cells
    # for every contact of the batch) cost 0.4 µs a row.
    return ContactLookup.model_construct(
        contacts=[*lookup.contacts, *follow_up.contacts],
        email_owners={**lookup.email_owners, **follow_up.email_owners},
        cells=lookup.cells,
    )


class SheetValidator:
    def __init__(self, setup: ValidationSetup) -> None:
        self.setup = setup
        fields = AccountFields.from_account(setup.account)
        parser = CellParser(
            setup.account,
            setup.sheet_locale,
            validate_emails=setup.options.validate_emails,
            validate_phones=setup.options.validate_phones,
        )
        self._fields = fields
        self._judge = RowJudge(setup, fields, parser)
        written = self._judge.written_columns
        # For a CSV, the lookup also brings each contact's cells as the export writes
        # them: an untouched row is then one comparison (RowJudge.judge's `shown`).
        self.cell_rendition = (
            CellRendition.of_account(
                setup.account,
                [CsvColumn(key=c.spec.key, type=c.spec.type, custom=c.spec.custom) for c in written],
                Locale(setup.sheet_locale),
            )
            if setup.text_cells and written
            else None
        )
        self._field_keys = [c.spec.key for c in self._judge.written_columns]
        self._field_index = {key: i for i, key in enumerate(self._field_keys)}
        self._ledger = RowLedger()
        self._begun = 0
        self._judged = 0
        self.counts = ValidationCounts()

    def begin_batch(self, rows: Sequence[RawRow]) -> PendingBatch:
        """Reads the batch's IDs; its `request` says what the service must look up: the
        IDs, and the emails of the rows without an ID (they create contacts, so each email
        is checked for a possible duplicate). Rows with an ID mostly update: their emails
        are asked by `follow_up` only when the ID turns out unknown, which spares the
        service an index probe per email of every updated row."""
        pending: list[tuple[RawRow, ParsedId]] = []
        ids: dict[int, None] = {}
        emails: dict[str, None] = {}
        judge = self._judge
        read_id = judge.read_id
        for row in rows:
            parsed_id = read_id(row)
            if parsed_id.__class__ is int:  # a row with an ID is not blank: no need to test it
                ids[parsed_id] = None
            elif _is_blank_row(row.cells):
                continue
            else:
                for email in judge.emails_to_check(row, parsed_id):
                    emails[email] = None
            pending.append((row, parsed_id))
        cells = self.cell_rendition if ids else None
        request = ContactLookupRequest(
            ids=list(ids)[:MAX_LOOKUP_ITEMS],
            emails=list(emails)[:MAX_LOOKUP_ITEMS],
            cells=cells,
            # With the cells, most rows are recognised unchanged and need no contact:
            # `follow_up` asks for the contacts of the others.
            with_contacts=cells is None,
        )
        batch = PendingBatch(self._begun, pending, request)
        self._begun += 1
        return batch

    def follow_up(self, batch: PendingBatch, lookup: ContactLookup) -> ContactLookupRequest | None:
        """What is still to look up once `lookup` answered the batch's request: the
        emails of rows whose ID is not one of the account's contacts (they will create
        one), and, when the request asked for cells only, the contacts of the rows that
        differ from their cells (they are judged cell by cell). None when nothing is.
        Reads nothing that judging changes, so it may run while an earlier batch is
        judged."""
        shown_cells = _as_tuples(lookup.cells)
        compare = not batch.request.with_contacts
        if compare:
            found: set[int] | dict[int, tuple[str | None, ...]] = shown_cells
        else:
            account_id = self.setup.account.account_id
            found = {c.id for c in lookup.contacts if c.account_id == account_id}
        asked = set(batch.request.emails)
        emails: dict[str, None] = {}
        differing: dict[int, None] = {}
        unchanged: list[bool] = []
        judge = self._judge
        shows_contact = judge.shows_contact
        for row, parsed_id in batch.rows:
            shows = False
            if isinstance(parsed_id, int):
                if parsed_id not in found:
                    for email in judge.emails_to_check(row, parsed_id):
                        if email not in asked:
                            emails[email] = None
                elif compare:
                    shows = shows_contact(row, shown_cells[parsed_id])
                    if not shows:
                        differing[parsed_id] = None
            unchanged.append(shows)
        if compare:
            batch.unchanged = unchanged
        if not emails and not differing:
            return None
        return ContactLookupRequest(ids=list(differing), emails=list(emails)[:MAX_LOOKUP_ITEMS])

    def judge_batch(self, batch: PendingBatch, lookup: ContactLookup) -> BatchVerdict:
        """`lookup`: the batch's, merged with the answer to its `follow_up` if any."""
        if batch.number != self._judged:
            raise RuntimeError(f"batch {batch.number} judged out of turn (next is {self._judged})")
        self._judged += 1
        account_id = self.setup.account.account_id
        # Another account's contact is "unknown", never a match, whatever the lookup says.
        contacts: dict[int, ContactRecord] = {c.id: c for c in lookup.contacts if c.account_id == account_id}
        # Cells are rendered only for the account's contacts: an id among them is found.
        shown_cells = _as_tuples(lookup.cells) if self.cell_rendition is not None else {}
        width = len(self._field_keys)
        judge, ledger, email_owners = self._judge, self._ledger, lookup.email_owners
        unchanged = batch.unchanged
        if unchanged is None:  # follow_up asked for the contacts, not the cells: compare here
            shows_contact = judge.shows_contact
            unchanged = [
                parsed_id.__class__ is int
                and (shown := shown_cells.get(parsed_id)) is not None
                and shows_contact(row, shown)
                for row, parsed_id in batch.rows
            ]
        verdicts = []
        for (row, parsed_id), shows in zip(batch.rows, unchanged, strict=True):
            if shows:
                # Most rows of a round trip: recorded here, counted after the loop.
                ledger.record_unchanged(row.row_number, parsed_id)  # type: ignore[arg-type]
                continue
            shown = shown_cells.get(parsed_id) if parsed_id.__class__ is int else None
            contact = contacts.get(parsed_id) if parsed_id.__class__ is int else None
            if shown is not None:
                if contact is None:
                    raise RuntimeError(f"the lookup rendered contact {parsed_id}'s cells but did not bring the contact")
                if len(shown) != width:
                    shown = None
            verdict = judge.judge(row, parsed_id, contact, email_owners, shown)
            self._count(verdict)
            verdicts.append(verdict)
        counted = unchanged.count(True)
        self.counts.rows += counted
        self.counts.unchanged += counted
        return BatchVerdict(verdicts, batch.rows, unchanged)

    def finish(self) -> ValidationSummary:
        if self._judged != self._begun:
            raise RuntimeError(f"{self._begun - self._judged} batches begun and not judged")
        items = self._missing_recommended_columns()
        revoked: list[int] = []
        for group in self._ledger.duplicate_id_groups():
            for entry in group:
                others = [e.row_number for e in group if e is not entry]
                items.append(self._duplicate_id_item(entry, others))
                if self._unplan(entry):
                    revoked.append(entry.row_number)
        for item in items:
            self._count_item(item)
        counts = self.counts
        ready = counts.rows_with_errors == 0 or self.setup.options.skip_rows_with_errors
        return ValidationSummary(counts, items, sorted(revoked), ready)

    def _count(self, verdict: RowVerdict) -> None:
        counts = self.counts
        counts.rows += 1
        if verdict.feedback:
            for item in verdict.feedback:
                self._count_item(item)
        outcome = verdict.outcome
        if outcome is RowOutcome.ERROR:
            counts.rows_with_errors += 1
        elif outcome is RowOutcome.CREATE:
            counts.to_create += 1
        elif outcome is RowOutcome.UPDATE:
            counts.to_update += 1
        elif outcome is RowOutcome.UNCHANGED:
            counts.unchanged += 1
        else:
            counts.skipped += 1
        changed = verdict.changed_fields
        if changed:
            field_changes = counts.field_changes
            for key in changed:
                field_changes[key] = field_changes.get(key, 0) + 1
        self._ledger.record(
            verdict.row_number,
            verdict.contact_id,
            outcome,
            [self._field_index[key] for key in changed] if changed else (),
        )

    def _count_item(self, item: FeedbackItem) -> None:
        if item.severity is Severity.ERROR:
            self.counts.errors += 1
        else:
            self.counts.warnings += 1

    def _unplan(self, entry: LedgerEntry) -> bool:
        """Turns a judged row into an error row; True if it had a planned change."""
        counts = self.counts
        outcome = entry.outcome
        if outcome is RowOutcome.ERROR:
            return False
        counts.rows_with_errors += 1
        if outcome is RowOutcome.UNCHANGED:
            counts.unchanged -= 1
            return False
        if outcome is RowOutcome.SKIPPED:
            counts.skipped -= 1
            return False
        if outcome is RowOutcome.CREATE:
            counts.to_create -= 1
        else:
            counts.to_update -= 1
        for index in entry.changed_field_indexes:
            counts.field_changes[self._field_keys[index]] -= 1
        return True

    def _duplicate_id_item(self, entry: LedgerEntry, other_rows: list[int]) -> FeedbackItem:
        column = self._judge.id_column
        return feedback(
            "duplicate_id",
            entry.row_number,
            column=column.column if column else None,
            header=column.header if column else None,
            field_key="id",
            cell=str(entry.contact_id),
            params={"id": entry.contact_id, "other_rows": other_rows},
        )

    def _missing_recommended_columns(self) -> list[FeedbackItem]:
        if not self.setup.options.warn_recommended_empty:
            return []
        mapped = set(self.setup.columns.values())
        locale = self.setup.account.locale
        return [
            feedback(
                "recommended_column_missing",
                None,
                field_key=key,
                params={"field": self._fields.by_key[key].label(locale)},
            )
            for key in RECOMMENDED_FIELD_KEYS
            if key not in mapped
        ]
