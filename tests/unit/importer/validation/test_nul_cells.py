"""A cell holding NUL (U+0000, `_x0000_` in an XLSX) is an error at its cell, whatever
its field: PostgreSQL's text cannot store it, and the contacts service failed the whole
run at apply time instead (a misleading "temporary" failure, no row or column). Nothing
that validation hands on to be stored (feedback, plans, lookups) holds NUL."""

from __future__ import annotations

import json

import pytest

from services.importer.adapters.validation_store import json_text
from services.importer.domain.cell_parsing import CellParser
from services.importer.domain.feedback import FeedbackItem, Severity
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.row_judgement import RowOutcome
from services.importer.domain.sheet import RawRow, column_letter
from services.importer.domain.validation import SheetValidator, merged
from services.importer.domain.validation_setup import ValidationOptions

from .builders import InMemoryContacts, account, contact, export_headers, export_rows, row, setup_for, validate
from .test_validation_round_trip import ALL_KEYS, realistic_contacts

CTX = account()
FIELDS = AccountFields.from_account(CTX)
NUL_PROBLEM = ParseProblem("nul_character")


@pytest.mark.parametrize("key", sorted(FIELDS.by_key))
@pytest.mark.parametrize("cell", ["\x00", " \x00 ", "Ana\x00", "a@b.com\x00", "\x0012", "SIM\x00", "Lead\x00"])
def test_a_text_cell_with_nul_is_a_problem_for_every_field(key: str, cell: str) -> None:
    assert CellParser(CTX, "pt-BR").parse(cell, FIELDS.by_key[key]) == NUL_PROBLEM


def _stored_text(item: FeedbackItem) -> str:
    """What the validation store writes of an item, as one string."""
    return "".join(str(part) for part in (item.value, item.header, item.column, item.field_key, json_text(item.params)))


def _nul_rows(template, keys: list[str], first_id: int) -> tuple[list[RawRow], list, list[tuple[int, str, str]]]:  # type: ignore[no-untyped-def]
    """For each column and each position in its exported text, a contact whose row has a
    NUL inserted there (and is otherwise as exported): (rows, contacts, (row, key, cell))."""
    records, cases = [], []
    for key in keys:
        text = export_rows(CTX, keys, [template])[0].cells[keys.index(key)]
        for at in range(len(text) + 1):
            records.append(template.model_copy(update={"id": first_id + len(records)}))
            cases.append((key, text[:at] + "\x00" + text[at:]))
    exported = export_rows(CTX, keys, records)
    rows = []
    where = []
    for raw, (key, cell) in zip(exported, cases, strict=True):
        cells = list(raw.cells)
        cells[keys.index(key)] = cell
        rows.append(RawRow(raw.row_number + 1, tuple(cells)))
        where.append((raw.row_number + 1, key, cell))
    return rows, records, where


@pytest.mark.parametrize("text_cells", [False, True], ids=["xlsx", "csv-like"])
@pytest.mark.parametrize("template", realistic_contacts()[:3], ids=["plain", "rich", "sparse"])
def test_a_nul_anywhere_in_any_written_cell_is_an_error_at_that_cell(text_cells: bool, template) -> None:  # type: ignore[no-untyped-def]
    """Each quick check (unchanged_cells, the memo of few-valued fields, the CSV's shown
    cells) compares the whole cell with text the export writes, which never holds NUL:
    none may call such a cell unchanged. Row 2 is the untouched template, so the memos
    have learned its cells first."""
    keys = [key for key in ALL_KEYS if key not in ("created_at", "updated_at")]
    untouched = export_rows(CTX, keys, [template])[0]
    rows, records, where = _nul_rows(template, keys, first_id=10_000)
    setup = setup_for(CTX, export_headers(CTX, keys), text_cells=text_cells)
    verdicts, summary = validate(setup, [untouched, *rows], [template, *records])
    judged = {verdict.row_number: verdict for batch in verdicts for verdict in batch.rows}
    assert judged[2].outcome is RowOutcome.UNCHANGED
    for row_number, key, cell in where:
        verdict = judged[row_number]
        assert verdict.outcome is RowOutcome.ERROR, (key, cell)
        assert verdict.planned is None
        errors = [item for item in verdict.feedback if item.severity is Severity.ERROR]
        column = keys.index(key)
        header = export_headers(CTX, keys)[column]
        found = [(e.code, e.row_number, e.column, e.header, e.field_key) for e in errors]
        # An unreadable ID makes the row a new contact's, whose other cells are then
        # judged in full (a stored phone today's rules refuse is reported too).
        assert (found[:1] if key == "id" else found) == [
            ("nul_character", row_number, column_letter(column), header, key)
        ], (key, cell)
        assert errors[0].value == cell.replace("\x00", "\ufffd")
        assert all("\x00" not in _stored_text(item) for item in verdict.feedback)
    counts = summary.counts
    assert (counts.rows_with_errors, counts.to_update, counts.to_create) == (len(rows), 0, 0)
    assert not summary.ready_to_start


def test_the_message_says_where_and_what_to_do() -> None:
    (verdict,), _ = validate(
        setup_for(CTX, export_headers(CTX, ["id", "name"])), [row(2, "1001", "Maria\x00 Oliveira")], [contact(1001)]
    )
    (item,) = verdict.feedback
    assert item.value == "Maria\ufffd Oliveira"
    assert item.message("pt-BR") == (
        "Linha 2, coluna B (Nome): a célula contém um caractere invisível NUL (U+0000), que não pode ser "
        "gravado. Apague o conteúdo da célula e digite-o novamente."
    )
    assert item.message("en").startswith("Row 2, column B (Nome): the cell holds an invisible NUL character")


def test_the_emails_of_a_new_row_with_nul_are_not_looked_up() -> None:
    """The lookup's SQL compares them: NUL would fail the whole run there."""
    keys = ["id", "name", "emails"]
    setup = setup_for(CTX, export_headers(CTX, keys), options=ValidationOptions())
    validator = SheetValidator(setup)
    contacts = InMemoryContacts([], CTX)
    batch = validator.begin_batch([row(2, "", "Nova", "nova\x00@x.com, outra@x.com"), row(3, "", "Bia", "bia@x.com")])
    lookup = contacts.lookup(batch.request)
    if more := validator.follow_up(batch, lookup):
        lookup = merged(lookup, contacts.lookup(more))
    verdict = validator.judge_batch(batch, lookup)
    assert all("\x00" not in email for request in contacts.requests for email in request.emails)
    assert contacts.requests[0].emails == ["bia@x.com"]
    outcomes = {v.row_number: v.outcome for v in verdict.rows}
    assert outcomes == {2: RowOutcome.ERROR, 3: RowOutcome.CREATE}
    assert [(i.code, i.field_key) for i in verdict.feedback if i.row_number == 2 and i.severity == "error"] == [
        ("nul_character", "emails")
    ]
    assert all("\x00" not in json.dumps(p.values) for p in verdict.planned)


def test_a_nul_in_the_updated_at_cell_is_shown_without_it() -> None:
    """Atualizado em is read, never written: a NUL there makes it unreadable (a warning)."""
    keys = ["id", "name", "updated_at"]
    exported = export_rows(CTX, keys, [contact(1001)])[0].cells
    (verdict,), _ = validate(
        setup_for(CTX, export_headers(CTX, keys)),
        [row(2, exported[0], "Outro Nome", exported[2] + "\x00")],
        [contact(1001)],
    )
    (judged,) = verdict.rows
    assert judged.outcome is RowOutcome.UPDATE
    (item,) = judged.feedback
    assert (item.code, item.field_key, item.value) == ("updated_at_unreadable", "updated_at", exported[2] + "\ufffd")
